from manim import *

X0 = 1.5


def curve(x):
    return 0.25 * x ** 3 - x + 2


class SecantToTangent(Scene):
    def construct(self):
        axes = Axes(x_range=[-1, 4, 1], y_range=[0, 8, 2], x_length=7, y_length=4.5, tips=False)
        graph = axes.plot(curve, x_range=[-1, 3.3], color=BLUE)
        dx = ValueTracker(1.5)

        secant = always_redraw(lambda: axes.get_secant_slope_group(
            X0, graph, dx=dx.get_value(), dx_line_color=YELLOW, dy_line_color=ORANGE,
            secant_line_color=GREEN, secant_line_length=5))
        moving_dot = always_redraw(
            lambda: Dot(axes.i2gp(X0 + dx.get_value(), graph), color=RED))
        anchor = Dot(axes.i2gp(X0, graph), color=WHITE)

        slope = DecimalNumber(0, num_decimal_places=2).to_corner(UR)
        slope.add_updater(lambda m: m.set_value(
            (curve(X0 + dx.get_value()) - curve(X0)) / dx.get_value()))
        label = Text("slope =", font_size=28).next_to(slope, LEFT)

        self.add(axes, graph, secant, anchor, moving_dot, label, slope)
        self.play(dx.animate.set_value(0.05), run_time=2, rate_func=smooth)
        self.wait(0.3)
