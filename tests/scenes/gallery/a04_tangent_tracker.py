from manim import *


class TangentTracker(Scene):
    def construct(self):
        axes = Axes(x_range=[-3, 3, 1], y_range=[-1, 5, 1], x_length=7, y_length=5)
        f = lambda x: 0.5 * x**2
        graph = axes.plot(f, color=BLUE)
        t = ValueTracker(-2)

        dot = always_redraw(lambda: Dot(axes.c2p(t.get_value(), f(t.get_value())), color=YELLOW))
        tangent = always_redraw(
            lambda: axes.get_secant_slope_group(
                t.get_value(), graph, dx=0.01, secant_line_color=ORANGE, secant_line_length=3
            )
        )
        slope_label = MathTex("f'(x) =").to_corner(UR).shift(LEFT * 1.2)
        slope_value = DecimalNumber(t.get_value(), num_decimal_places=2)
        slope_value.add_updater(lambda m: m.set_value(t.get_value()).next_to(slope_label, RIGHT))

        self.add(axes, graph, tangent, dot, slope_label, slope_value)
        self.play(t.animate.set_value(2), run_time=2, rate_func=smooth)
        self.wait(0.3)
