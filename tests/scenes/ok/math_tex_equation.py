from manim import *
"""MathTex and Tex: Write, set_color_by_tex, and TransformMatchingTex between equations."""


class MathTexEquation(Scene):
    def construct(self):
        heading = Tex(r"Solving for $x$", font_size=40).to_edge(UP)
        first = MathTex("2", "x", "+", "3", "=", "7")
        second = MathTex("2", "x", "=", "7", "-", "3")
        third = MathTex("x", "=", "2")
        for eq in (first, second, third):
            eq.set_color_by_tex("x", YELLOW)
        self.play(Write(heading), Write(first), run_time=0.5)
        self.play(TransformMatchingTex(first, second), run_time=0.5)
        self.play(TransformMatchingTex(second, third), run_time=0.5)
        self.wait(0.2)
