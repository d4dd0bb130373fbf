from manim import *


class SpiralAndRotate(Scene):
    def construct(self):
        shapes = VGroup(
            *[RegularPolygon(n, radius=0.6, color=c, fill_opacity=0.5) for n, c in zip(range(3, 7), [RED, GREEN, BLUE, YELLOW])]
        ).arrange(RIGHT, buff=0.6)
        square = Square(side_length=1.5, color=PURPLE, fill_opacity=0.4).shift(DOWN * 2)

        self.play(SpiralIn(shapes), run_time=1.2)
        self.play(
            *[Rotate(s, angle=PI, rate_func=there_and_back) for s in shapes],
            run_time=0.8,
        )
        self.play(FadeIn(square), run_time=0.3)
        self.play(Rotate(square, angle=PI / 2, about_point=square.get_corner(DL)), run_time=0.7)
