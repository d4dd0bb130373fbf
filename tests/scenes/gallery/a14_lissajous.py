from manim import *


class LissajousCurve(Scene):
    def construct(self):
        curves = VGroup(
            *[
                ParametricFunction(
                    lambda t, a=a, b=b: np.array([1.2 * np.sin(a * t + PI / 2), 1.2 * np.sin(b * t), 0]),
                    t_range=[0, TAU, 0.02],
                    color=color,
                )
                for (a, b), color in zip([(1, 2), (3, 2), (3, 4)], [RED, GREEN, BLUE])
            ]
        ).arrange(RIGHT, buff=0.8)
        labels = VGroup(
            *[MathTex(f"{a}:{b}", font_size=32).next_to(c, DOWN) for (a, b), c in zip([(1, 2), (3, 2), (3, 4)], curves)]
        )
        self.play(LaggedStart(*[Create(c) for c in curves], lag_ratio=0.3), run_time=2)
        self.play(FadeIn(labels), run_time=0.5)
        self.wait(0.3)
