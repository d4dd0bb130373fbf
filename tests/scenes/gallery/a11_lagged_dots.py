from manim import *


class LaggedDots(Scene):
    def construct(self):
        dots = VGroup(*[Dot(radius=0.15, color=BLUE) for _ in range(8)]).arrange(RIGHT, buff=0.5)
        squares = VGroup(*[Square(0.5, color=GREEN) for _ in range(3)]).arrange(RIGHT).next_to(dots, DOWN, buff=1)
        title = Text("LaggedStart, AnimationGroup, Succession", font_size=28).to_edge(UP)

        self.add(title)
        self.play(LaggedStart(*[GrowFromCenter(d) for d in dots], lag_ratio=0.2), run_time=1)
        self.play(
            AnimationGroup(
                dots.animate.set_color(YELLOW).shift(UP * 0.5),
                title.animate.set_color(YELLOW),
            ),
            run_time=0.5,
        )
        self.play(Succession(*[Create(s) for s in squares]), run_time=1)
        self.play(
            AnimationGroup(*[d.animate.scale(0.5) for d in dots], lag_ratio=0.1),
            run_time=0.6,
        )
