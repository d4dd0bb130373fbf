from manim import *


class MatrixShear(Scene):
    def construct(self):
        plane = NumberPlane(x_range=[-7, 7], y_range=[-4, 4])
        i_hat = Vector([1, 0], color=GREEN)
        j_hat = Vector([0, 1], color=RED)
        matrix = [[1, 1], [0, 1]]

        label = MathTex(r"\begin{bmatrix} 1 & 1 \\ 0 & 1 \end{bmatrix}")
        label.to_corner(UL).add_background_rectangle()

        self.add(plane, i_hat, j_hat, label)
        self.play(
            ApplyMatrix(matrix, plane),
            ApplyMatrix(matrix, i_hat),
            ApplyMatrix(matrix, j_hat),
            run_time=1.5,
        )
        self.wait(0.5)
