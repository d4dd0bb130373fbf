from manim import *
"""Emphasis animations: Indicate, Circumscribe, Flash and FocusOn on parts of a formula."""


class IndicateCircumscribe(Scene):
    def construct(self):
        formula = MathTex("E", "=", "m", "c^2", font_size=72)
        note = Text("mass-energy", font_size=28).next_to(formula, DOWN)
        self.add(formula, note)
        self.play(Indicate(formula[0]), run_time=0.4)
        self.play(Circumscribe(formula[3], color=YELLOW), run_time=0.5)
        self.play(Flash(formula[2], color=GREEN), run_time=0.3)
        self.play(Circumscribe(note, shape=Circle, color=BLUE), run_time=0.4)
        self.wait(0.2)
