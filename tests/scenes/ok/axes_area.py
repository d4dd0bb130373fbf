from manim import *
"""Axes with a plotted curve, get_area under it and get_riemann_rectangles that refine."""


class AxesArea(Scene):
    def construct(self):
        axes = Axes(x_range=[0, 4, 1], y_range=[0, 5, 1], x_length=6, y_length=4)
        graph = axes.plot(lambda x: 0.25 * x ** 2 + 1, x_range=[0, 4], color=YELLOW)
        coarse = axes.get_riemann_rectangles(graph, x_range=[0, 3], dx=0.5, fill_opacity=0.6)
        fine = axes.get_riemann_rectangles(graph, x_range=[0, 3], dx=0.1, fill_opacity=0.6)
        area = axes.get_area(graph, x_range=(0, 3), color=GREEN, opacity=0.5)
        self.add(axes, graph)
        self.play(Create(coarse), run_time=0.4)
        self.play(Transform(coarse, fine), run_time=0.4)
        self.play(ReplacementTransform(coarse, area), run_time=0.4)
        self.wait(0.2)
