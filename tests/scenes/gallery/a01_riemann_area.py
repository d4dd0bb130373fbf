from manim import *


class RiemannToArea(Scene):
    def construct(self):
        axes = Axes(
            x_range=[0, 5, 1],
            y_range=[0, 6, 2],
            x_length=7,
            y_length=4.5,
            axis_config={"include_numbers": True, "font_size": 24},
        )
        curve = axes.plot(lambda x: 0.2 * x**2 + 1, x_range=[0, 5], color=BLUE)
        label = axes.get_graph_label(curve, "f(x)", x_val=4.5, direction=UL)

        rects = [
            axes.get_riemann_rectangles(
                curve, x_range=[1, 4], dx=dx, stroke_width=0.5, color=(TEAL, GREEN)
            )
            for dx in (1, 0.5, 0.25)
        ]
        area = axes.get_area(curve, x_range=(1, 4), color=GREEN, opacity=0.5)

        self.add(axes, curve, label)
        self.play(Create(rects[0]), run_time=0.6)
        for nxt in rects[1:]:
            self.play(Transform(rects[0], nxt), run_time=0.5)
        self.play(ReplacementTransform(rects[0], area), run_time=0.6)
        self.wait(0.3)
