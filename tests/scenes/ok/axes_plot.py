from manim import *
"""Axes with axes.plot, get_graph_label and axis labels, drawn with Create."""


class AxesPlot(Scene):
    def construct(self):
        axes = Axes(
            x_range=[-3, 3, 1],
            y_range=[-1, 9, 2],
            x_length=6,
            y_length=4,
            axis_config={"include_numbers": True, "font_size": 20},
        )
        labels = axes.get_axis_labels(x_label="x", y_label="y")
        graph = axes.plot(lambda x: x ** 2, x_range=[-3, 3], color=BLUE)
        graph_label = axes.get_graph_label(graph, label="x^2", x_val=2, direction=RIGHT)
        self.play(Create(axes), FadeIn(labels), run_time=0.5)
        self.play(Create(graph), run_time=0.6)
        self.play(Write(graph_label), run_time=0.3)
        self.wait(0.2)
