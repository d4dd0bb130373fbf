from manim import *
"""Text: Write, FadeIn with a shift, colored substrings (t2c), font size, FadeOut."""


class TextWrite(Scene):
    def construct(self):
        title = Text("Hello, Manim", font_size=60, color=BLUE)
        subtitle = Text("plain text, no LaTeX", font_size=32, t2c={"no LaTeX": YELLOW})
        subtitle.next_to(title, DOWN)
        self.play(Write(title), run_time=0.6)
        self.play(FadeIn(subtitle, shift=UP * 0.3), run_time=0.4)
        self.play(title.animate.to_edge(UP), FadeOut(subtitle), run_time=0.4)
        self.wait(0.2)
