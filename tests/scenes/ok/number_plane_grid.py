from manim import *
"""NumberPlane with coordinates, a vector and a dot, then ApplyMatrix shearing the plane."""


class NumberPlaneGrid(Scene):
    def construct(self):
        plane = NumberPlane(x_range=[-6, 6, 1], y_range=[-4, 4, 1])
        plane.add_coordinates()
        vector = Arrow(plane.c2p(0, 0), plane.c2p(2, 1), buff=0, color=YELLOW)
        dot = Dot(plane.c2p(-2, 2), color=RED)
        self.play(Create(plane), run_time=0.5)
        self.play(GrowArrow(vector), FadeIn(dot), run_time=0.3)
        shear = [[1, 1], [0, 1]]
        self.play(ApplyMatrix(shear, VGroup(plane, vector, dot)), run_time=0.7)
        self.wait(0.2)
