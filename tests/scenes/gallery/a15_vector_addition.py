from manim import *


class VectorAddition(Scene):
    def construct(self):
        line = NumberLine(x_range=[-5, 5, 1], length=10, include_numbers=True).shift(DOWN * 3)
        a = Arrow(line.n2p(0), line.n2p(3), buff=0, color=BLUE).shift(UP * 0.4)
        b = Arrow(line.n2p(3), line.n2p(-1), buff=0, color=RED).shift(UP * 1.2)
        total = Arrow(line.n2p(0), line.n2p(-1), buff=0, color=YELLOW).shift(UP * 2)
        labels = VGroup(
            MathTex("+3", color=BLUE).next_to(a, UP, buff=0.05).scale(0.8),
            MathTex("-4", color=RED).next_to(b, UP, buff=0.05).scale(0.8),
            MathTex("-1", color=YELLOW).next_to(total, UP, buff=0.05).scale(0.8),
        )
        plane_vec = Vector([2, 1], color=GREEN)
        vec_label = plane_vec.coordinate_label(color=GREEN)

        self.add(line)
        self.play(GrowArrow(a), FadeIn(labels[0]), run_time=0.6)
        self.play(GrowArrow(b), FadeIn(labels[1]), run_time=0.6)
        self.play(GrowArrow(total), FadeIn(labels[2]), run_time=0.6)
        self.play(GrowArrow(plane_vec), Write(vec_label), run_time=0.7)
        self.wait(0.2)
