from manim import *

A, B = 1.5, 2.0


def square_on(p, q, color):
    """The square built outward on the segment p -> q (to its right)."""
    side = q - p
    normal = np.array([side[1], -side[0], 0])
    return Polygon(p, q, q + normal, p + normal, color=color, fill_opacity=0.5)


class PythagorasSquares(Scene):
    def construct(self):
        c = np.array([0, 0, 0])
        a_pt = np.array([B, 0, 0])
        b_pt = np.array([0, A, 0])
        shift = LEFT * 1 + DOWN * 0.5
        c, a_pt, b_pt = (p + shift for p in (c, a_pt, b_pt))

        triangle = Polygon(c, a_pt, b_pt, color=WHITE, stroke_width=4)
        squares = VGroup(
            square_on(c, a_pt, BLUE),
            square_on(b_pt, c, GREEN),
            square_on(a_pt, b_pt, RED),
        )
        labels = VGroup(*[
            MathTex(t, font_size=40).move_to(sq.get_center())
            for t, sq in zip(["b^2", "a^2", "c^2"], squares)
        ])
        equation = MathTex("a^2 + b^2 = c^2").to_corner(UR)

        self.play(Create(triangle), run_time=0.5)
        self.play(LaggedStart(*[DrawBorderThenFill(s) for s in squares], lag_ratio=0.3), run_time=1.2)
        self.play(FadeIn(labels), run_time=0.4)
        self.play(Write(equation), run_time=0.6)
        self.wait(0.3)
