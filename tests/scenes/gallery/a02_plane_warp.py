from manim import *
import numpy as np


class PlaneWarp(Scene):
    def construct(self):
        plane = NumberPlane(
            x_range=[-6, 6, 1],
            y_range=[-4, 4, 1],
            background_line_style={"stroke_color": TEAL, "stroke_opacity": 0.6},
        )
        title = Text("(x, y) → (x + sin y, y + sin x)", font_size=28)
        title.to_edge(UP).add_background_rectangle()
        plane.prepare_for_nonlinear_transform()

        def warp(p):
            x, y, _ = p
            return np.array([x + np.sin(y), y + np.sin(x), 0])

        self.add(plane, title)
        self.play(ApplyPointwiseFunction(warp, plane), run_time=1.5)
        self.wait(0.5)
