from manim import *
import math

Y_LIMIT = 2.2


def taylor_cos(n_terms):
    def f(x):
        return sum((-1) ** k * x ** (2 * k) / math.factorial(2 * k) for k in range(n_terms))
    return f


def _reach(f, limit=Y_LIMIT, x_max=7.0, step=0.05):
    """How far from 0 the (even) polynomial stays inside the plot's height."""
    x = 0.0
    while x < x_max and abs(f(x + step)) <= limit:
        x += step
    return x


class TaylorCosine(Scene):
    def construct(self):
        axes = Axes(x_range=[-7, 7, 1], y_range=[-2, 2, 1], x_length=11, y_length=4, tips=False)
        target = axes.plot(np.cos, color=BLUE, stroke_width=5)
        self.add(axes, target)

        def approx_graph(n, color):
            f = taylor_cos(n)
            r = _reach(f)
            return axes.plot(f, x_range=[-r, r], color=color)

        colors = color_gradient([YELLOW, RED], 5)
        approx = approx_graph(1, colors[0])
        title = Text("1 term", font_size=30).to_edge(UP)
        self.play(Create(approx), FadeIn(title), run_time=0.6)

        for n, color in enumerate(colors[1:], start=2):
            new_title = Text(f"{n} terms", font_size=30).to_edge(UP)
            self.play(Transform(approx, approx_graph(n, color)), Transform(title, new_title),
                      run_time=0.5)
        self.wait(0.3)
