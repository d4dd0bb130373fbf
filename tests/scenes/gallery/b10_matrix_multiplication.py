from manim import *

A = [[1, 2], [3, 4]]
B = [[5, 6], [7, 8]]


def product(a, b):
    return [[sum(a[i][k] * b[k][j] for k in range(2)) for j in range(2)] for i in range(2)]


class MatrixMultiplication(Scene):
    def construct(self):
        left = Matrix(A)
        right = Matrix(B)
        equals = MathTex("=")
        result = Matrix([["?", "?"], ["?", "?"]])
        row = VGroup(left, right, equals, result).arrange(RIGHT, buff=0.3)
        self.play(FadeIn(row), run_time=0.5)

        values = product(A, B)
        entries = result.get_entries()
        for i in range(2):
            for j in range(2):
                row_box = SurroundingRectangle(left.get_rows()[i], color=YELLOW)
                col_box = SurroundingRectangle(right.get_columns()[j], color=BLUE)
                new_entry = Integer(values[i][j]).move_to(entries[2 * i + j])
                self.play(Create(row_box), Create(col_box), run_time=0.25)
                self.play(Transform(entries[2 * i + j], new_entry),
                          FadeOut(row_box, col_box), run_time=0.3)
        self.wait(0.3)
