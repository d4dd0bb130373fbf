from manim import *


class EmphasisTour(Scene):
    def construct(self):
        formula = MathTex(r"e^{i\pi}", "+", "1", "=", "0", font_size=72)
        dot = Dot(DOWN * 2, color=YELLOW)
        self.add(formula, dot)
        self.play(Indicate(formula[0]), run_time=0.6)
        self.play(Circumscribe(formula, fade_out=True), run_time=0.8)
        self.play(Flash(dot, color=YELLOW, flash_radius=0.4), run_time=0.5)
        self.play(Wiggle(formula[-1]), run_time=0.6)
        self.play(ApplyWave(formula), run_time=0.6)
