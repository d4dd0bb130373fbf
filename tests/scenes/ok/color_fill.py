from manim import *
"""Color and fill: set_fill/set_stroke, set_color_by_gradient, animated fill and color changes."""


class ColorFill(Scene):
    def construct(self):
        circle = Circle(radius=1).set_stroke(WHITE, width=6).set_fill(BLUE, opacity=0.3)
        star = Star(n=5, outer_radius=1).set_fill(YELLOW, opacity=1).set_stroke(ORANGE, width=3)
        bars = VGroup(*[Rectangle(width=0.4, height=0.3 * (k + 1)) for k in range(6)])
        bars.arrange(RIGHT, aligned_edge=DOWN, buff=0.1).set_fill(opacity=0.8)
        bars.set_color_by_gradient(RED, GREEN, BLUE)
        row = VGroup(circle, star, bars).arrange(RIGHT, buff=1)
        self.play(FadeIn(row), run_time=0.4)
        self.play(circle.animate.set_fill(RED, opacity=0.9), run_time=0.4)
        self.play(star.animate.set_color(PURPLE), bars.animate.set_opacity(0.3), run_time=0.4)
        self.wait(0.2)
