from manim import *
"""Transform (square to circle) and ReplacementTransform (circle to triangle) of shapes."""


class ShapeTransform(Scene):
    def construct(self):
        square = Square(side_length=2, color=BLUE)
        circle = Circle(radius=1, color=GREEN)
        triangle = Triangle(color=RED).scale(1.2)
        self.play(Create(square), run_time=0.4)
        self.play(Transform(square, circle), run_time=0.5)
        self.play(ReplacementTransform(square, triangle), run_time=0.5)
        self.play(triangle.animate.rotate(PI / 3).shift(RIGHT), run_time=0.3)
        self.wait(0.2)
