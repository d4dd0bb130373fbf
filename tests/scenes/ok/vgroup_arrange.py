from manim import *
"""VGroup with arrange (row and column), arrange_in_grid, and group-wide animate."""


class VGroupArrange(Scene):
    def construct(self):
        shapes = VGroup(*[Square(side_length=0.8) for k in range(6)])
        shapes.arrange(RIGHT, buff=0.3)
        self.play(FadeIn(shapes, lag_ratio=0.2), run_time=0.5)
        self.play(shapes.animate.arrange(DOWN, buff=0.15), run_time=0.4)
        self.play(shapes.animate.arrange_in_grid(rows=2, cols=3, buff=0.3), run_time=0.4)
        self.play(shapes.animate.scale(0.7).to_corner(UL), run_time=0.3)
        self.wait(0.2)
