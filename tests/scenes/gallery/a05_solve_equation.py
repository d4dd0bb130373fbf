from manim import *


class SolveEquation(Scene):
    def construct(self):
        steps = [
            MathTex("2", "x", "+", "3", "=", "11"),
            MathTex("2", "x", "=", "11", "-", "3"),
            MathTex("2", "x", "=", "8"),
            MathTex("x", "=", "4"),
        ]
        for step in steps:
            step.scale(1.4)
        self.play(Write(steps[0]), run_time=0.7)
        for prev, nxt in zip(steps, steps[1:]):
            self.play(TransformMatchingTex(prev, nxt), run_time=0.7)
        self.play(Circumscribe(steps[-1], color=YELLOW), run_time=0.6)
