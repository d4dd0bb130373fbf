from manim import *


class GridOfSquares(Scene):
    def construct(self):
        cells = VGroup(
            *[
                VGroup(Square(0.9, color=BLUE_B), Integer(k * k, font_size=28))
                for k in range(1, 13)
            ]
        ).arrange_in_grid(rows=3, cols=4, buff=0.25)
        evens = VGroup(*[c for k, c in enumerate(cells, start=1) if k % 2 == 0])
        box = SurroundingRectangle(cells[4:8], color=YELLOW, buff=0.1)
        caption = Text("squares of 5..8", font_size=24).next_to(cells, DOWN)

        self.play(LaggedStart(*[FadeIn(c, scale=0.5) for c in cells], lag_ratio=0.08), run_time=1.2)
        self.play(evens.animate.set_color(GREEN), run_time=0.5)
        self.play(Create(box), Write(caption), run_time=0.7)
        self.wait(0.3)
