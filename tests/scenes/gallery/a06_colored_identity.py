from manim import *


class ColoredIdentity(Scene):
    def construct(self):
        identity = MathTex(r"\sin^2\theta", "+", r"\cos^2\theta", "=", "1", font_size=64)
        identity.set_color_by_tex(r"\sin^2\theta", BLUE)
        identity.set_color_by_tex(r"\cos^2\theta", RED)
        caption = Tex(
            r"holds for every angle $\theta$",
            substrings_to_isolate=[r"$\theta$"],
            font_size=40,
        ).next_to(identity, DOWN, buff=0.6)
        caption.set_color_by_tex(r"$\theta$", YELLOW)

        self.play(Write(identity), run_time=1)
        self.play(FadeIn(caption, shift=UP * 0.3), run_time=0.6)
        self.play(Indicate(identity[-1]), run_time=0.6)
        self.wait(0.3)
