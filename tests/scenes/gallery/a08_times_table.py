from manim import *


class TimesTable(Scene):
    def construct(self):
        n = 4
        values = [[r * c for c in range(1, n + 1)] for r in range(1, n + 1)]
        table = IntegerTable(
            values,
            row_labels=[MathTex(str(r)) for r in range(1, n + 1)],
            col_labels=[MathTex(str(c)) for c in range(1, n + 1)],
            top_left_entry=MathTex(r"\times"),
            include_outer_lines=True,
            line_config={"stroke_width": 1},
        ).scale(0.85)

        self.play(Create(table.get_horizontal_lines()), Create(table.get_vertical_lines()), run_time=0.7)
        self.play(FadeIn(table.get_entries()), run_time=0.6)
        diag = VGroup(*[table.get_cell((k, k), color=YELLOW) for k in range(2, n + 2)])
        self.play(LaggedStart(*[Create(c) for c in diag], lag_ratio=0.3), run_time=1)
        self.wait(0.3)
