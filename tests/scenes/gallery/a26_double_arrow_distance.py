from manim import *


class DoubleArrowDistance(Scene):
    def construct(self):
        axes = Axes(x_range=[0, 6, 1], y_range=[0, 4, 1], x_length=7, y_length=4.5)
        p, q = axes.c2p(1, 1), axes.c2p(5, 4)
        dots = VGroup(Dot(p, color=BLUE), Dot(q, color=RED))
        dist = DoubleArrow(p, q, buff=0.1, color=YELLOW, tip_length=0.2)
        dx = DashedLine(p, axes.c2p(5, 1), color=GREY_B)
        dy = DashedLine(axes.c2p(5, 1), q, color=GREY_B)
        d_label = MathTex(r"d = \sqrt{4^2 + 3^2} = 5", font_size=36).next_to(dist.get_center(), UL, buff=0.2)

        self.add(axes, dots)
        self.play(Create(dx), Create(dy), run_time=0.6)
        self.play(GrowFromCenter(dist), run_time=0.6)
        self.play(Write(d_label), run_time=0.8)
        self.wait(0.3)
