from manim import *


class ImplicitCurves(Scene):
    def construct(self):
        plane = NumberPlane(x_range=[-4, 4], y_range=[-3, 3], x_length=8, y_length=6)
        heart = ImplicitFunction(
            lambda x, y: (x**2 + y**2 - 1) ** 3 - x**2 * y**3,
            x_range=[-1.5, 1.5],
            y_range=[-1.5, 1.5],
            color=RED,
        ).scale(1.5)
        hyperbola = ImplicitFunction(
            lambda x, y: x**2 - y**2 - 1,
            x_range=[-4, 4],
            y_range=[-3, 3],
            color=YELLOW,
        )
        label = MathTex(r"x^2 - y^2 = 1", color=YELLOW, font_size=32).to_corner(UR).add_background_rectangle()

        self.add(plane)
        self.play(Create(heart), run_time=1)
        self.play(ReplacementTransform(heart, hyperbola), FadeIn(label), run_time=1)
        self.wait(0.3)
