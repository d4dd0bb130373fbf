from manim import *


class MatrixProduct(Scene):
    def construct(self):
        a = Matrix([[1, 2], [3, 4]])
        b = Matrix([[5], [6]])
        eq = MathTex("=")
        c = Matrix([[17], [39]])
        row = VGroup(a, b, eq, c).arrange(RIGHT, buff=0.3)

        self.play(Write(a), Write(b), run_time=0.8)
        self.play(Write(eq), FadeIn(c.get_brackets()), run_time=0.4)
        a_rows = a.get_rows()
        c_entries = c.get_entries()
        for k in range(2):
            row_box = SurroundingRectangle(a_rows[k], color=YELLOW)
            col_box = SurroundingRectangle(b.get_columns()[0], color=YELLOW)
            self.play(Create(row_box), Create(col_box), run_time=0.4)
            self.play(TransformFromCopy(VGroup(a_rows[k], b.get_columns()[0]), c_entries[k]), run_time=0.5)
            self.play(FadeOut(row_box), FadeOut(col_box), run_time=0.3)
