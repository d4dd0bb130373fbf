from manim import *

DX_VALUES = [0.5, 0.25, 0.125, 0.0625]


class RiemannSumRefining(Scene):
    def construct(self):
        axes = Axes(x_range=[0, 4, 1], y_range=[0, 5, 1], x_length=8, y_length=5, tips=False)
        graph = axes.plot(lambda x: 0.3 * x ** 2 + 0.5, x_range=[0, 4], color=YELLOW)

        def rects(dx):
            return axes.get_riemann_rectangles(graph, x_range=[0.5, 3.5], dx=dx,
                                               color=(BLUE, GREEN), fill_opacity=0.7)

        boxes = rects(DX_VALUES[0])
        label = MathTex(r"\Delta x = 0.5", font_size=36).to_corner(UL)
        self.add(axes, graph)
        self.play(Create(boxes), Write(label), run_time=0.7)

        for dx in DX_VALUES[1:]:
            new_label = MathTex(rf"\Delta x = {dx:g}", font_size=36).to_corner(UL)
            self.play(Transform(boxes, rects(dx)), Transform(label, new_label), run_time=0.5)

        area = axes.get_area(graph, x_range=[0.5, 3.5], color=BLUE, opacity=0.7)
        self.play(FadeTransform(boxes, area), run_time=0.5)
        self.wait(0.2)
