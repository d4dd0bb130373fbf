from manim import *


class CircularGraph(Scene):
    def construct(self):
        vertices = list(range(1, 7))
        edges = [(i, i % 6 + 1) for i in vertices] + [(1, 4), (2, 5), (3, 6)]
        graph = Graph(
            vertices,
            edges,
            layout="circular",
            layout_scale=2.5,
            labels=True,
            vertex_config={"fill_color": BLUE_D},
            edge_config={"stroke_color": GREY_B},
        )
        self.play(Create(graph), run_time=1.2)
        self.play(
            *[graph.edges[e].animate.set_color(YELLOW) for e in [(1, 4), (2, 5), (3, 6)]],
            run_time=0.6,
        )
        self.play(graph.animate.change_layout("spring", layout_scale=2.5, layout_config={"seed": 3}), run_time=1)
        self.wait(0.2)
