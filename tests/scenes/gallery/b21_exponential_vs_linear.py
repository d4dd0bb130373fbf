from manim import *
from scipy.optimize import brentq


def line_f(x):
    return 5 * x + 2


def expo_f(x):
    return 2 ** x


class ExponentialVsLinear(Scene):
    def construct(self):
        axes = Axes(x_range=[0, 6, 1], y_range=[0, 40, 10], x_length=8, y_length=5,
                    tips=False, axis_config={"include_numbers": True, "font_size": 24})
        x_max = ValueTracker(0.01)

        linear_graph = always_redraw(lambda: axes.plot(line_f, x_range=[0, x_max.get_value()],
                                                       color=BLUE))
        expo_graph = always_redraw(lambda: axes.plot(expo_f, x_range=[0, x_max.get_value()],
                                                     color=RED))
        labels = VGroup(
            MathTex("5x + 2", color=BLUE, font_size=34),
            MathTex("2^x", color=RED, font_size=34),
        ).arrange(DOWN, aligned_edge=LEFT).next_to(axes.c2p(0.5, 38), RIGHT)

        self.add(axes, linear_graph, expo_graph, labels)
        self.play(x_max.animate.set_value(5.3), run_time=2.5, rate_func=linear)

        x_cross = brentq(lambda x: expo_f(x) - line_f(x), 3, 6)
        crossing = Dot(axes.c2p(x_cross, line_f(x_cross)), color=YELLOW)
        note = Text(f"x ≈ {x_cross:.2f}", font_size=26).next_to(crossing, RIGHT)
        self.play(Flash(crossing, color=YELLOW), FadeIn(crossing, note), run_time=0.5)
        self.wait(0.2)
