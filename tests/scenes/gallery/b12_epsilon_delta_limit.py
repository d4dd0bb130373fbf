from manim import *

A_POINT = 2.0
LIMIT = 4.0


def f(x):
    return x ** 2


class EpsilonDeltaLimit(Scene):
    def construct(self):
        axes = Axes(x_range=[0, 3.5, 1], y_range=[0, 9, 2], x_length=6, y_length=5,
                    tips=False).to_edge(LEFT)
        graph = axes.plot(f, x_range=[0, 3], color=BLUE)
        eps = ValueTracker(2.0)

        def delta():
            return np.sqrt(LIMIT + eps.get_value()) - A_POINT

        def band(y0, y1, color):
            lo, hi = axes.c2p(0, y0), axes.c2p(3.5, y1)
            return Rectangle(width=hi[0] - lo[0], height=hi[1] - lo[1], stroke_width=0,
                             fill_color=color, fill_opacity=0.25).move_to((lo + hi) / 2)

        eps_band = always_redraw(lambda: band(LIMIT - eps.get_value(), LIMIT + eps.get_value(), YELLOW))

        def delta_band():
            d = delta()
            lo, hi = axes.c2p(A_POINT - d, 0), axes.c2p(A_POINT + d, 9)
            return Rectangle(width=hi[0] - lo[0], height=hi[1] - lo[1], stroke_width=0,
                             fill_color=GREEN, fill_opacity=0.25).move_to((lo + hi) / 2)

        d_band = always_redraw(delta_band)
        point = Dot(axes.c2p(A_POINT, LIMIT), color=RED)
        readout = always_redraw(lambda: Text(
            f"ε = {eps.get_value():.2f}   δ = {delta():.2f}", font_size=28).to_corner(UR))

        self.add(axes, graph)
        self.play(FadeIn(eps_band, d_band, point), run_time=0.5)
        self.add(readout)
        self.play(eps.animate.set_value(0.3), run_time=2, rate_func=smooth)
        self.wait(0.2)
