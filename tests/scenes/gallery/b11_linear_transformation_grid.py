from manim import *

SHEAR = [[1, 1], [0, 1]]
ROTATE_90 = [[0, -1], [1, 0]]


class LinearTransformationGrid(Scene):
    def construct(self):
        background = NumberPlane(background_line_style={"stroke_opacity": 0.2}, axis_config={
            "stroke_opacity": 0.3})
        grid = NumberPlane(x_range=[-6, 6], y_range=[-4, 4],
                           background_line_style={"stroke_color": TEAL})
        i_hat = Vector(RIGHT, color=GREEN)
        j_hat = Vector(UP, color=RED)
        moving = VGroup(grid, i_hat, j_hat)
        label = MathTex(r"\begin{bmatrix}1&1\\0&1\end{bmatrix}").to_corner(UL)
        label.add_background_rectangle()

        self.add(background, moving)
        self.play(Write(label), run_time=0.4)
        self.play(ApplyMatrix(SHEAR, moving), run_time=1.0)
        self.play(ApplyMatrix(ROTATE_90, moving), run_time=1.0)
        self.wait(0.3)
