from manim import *


class DerivativeTable(Scene):
    def construct(self):
        table = MathTable(
            [
                ["f(x)", "f'(x)"],
                ["x^n", "n x^{n-1}"],
                [r"\sin x", r"\cos x"],
                ["e^x", "e^x"],
            ],
            include_outer_lines=True,
        ).scale(0.8)
        header = table.get_rows()[0]
        header.set_color(YELLOW)

        self.play(table.create(), run_time=1.2)
        highlight = table.get_highlighted_cell((3, 2), color=GREEN, fill_opacity=0.4)
        self.play(FadeIn(highlight), run_time=0.6)
        self.bring_to_back(highlight)
        self.play(Indicate(table.get_entries((4, 2))), run_time=0.6)
        self.wait(0.3)
