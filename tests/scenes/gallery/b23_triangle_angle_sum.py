from manim import *

P = [LEFT * 3 + DOWN * 1.5, RIGHT * 2.5 + DOWN * 1.5, LEFT * 0.5 + UP * 2]
ANGLE_COLORS = [RED, GREEN, BLUE]


class TriangleAngleSum(Scene):
    def construct(self):
        a, b, c = P
        triangle = Polygon(a, b, c, color=WHITE)
        sides = [Line(a, b), Line(b, c), Line(c, a)]
        angles = VGroup(
            Angle(sides[0], Line(a, c), radius=0.6, color=RED),
            Angle(Line(b, c), Line(b, a), radius=0.6, color=GREEN),
            Angle(Line(c, a), Line(c, b), radius=0.6, color=BLUE),
        )
        names = VGroup(*[
            MathTex(t, color=col, font_size=36).move_to(
                Angle(*pair, radius=0.95).point_from_proportion(0.5))
            for t, col, pair in zip(
                [r"\alpha", r"\beta", r"\gamma"], ANGLE_COLORS,
                [(sides[0], Line(a, c)), (Line(b, c), Line(b, a)), (Line(c, a), Line(c, b))])
        ])

        self.play(Create(triangle), run_time=0.5)
        self.play(*[Create(ang) for ang in angles], FadeIn(names), run_time=0.6)

        parallel = DashedLine(c + LEFT * 3, c + RIGHT * 3, color=GREY)
        self.play(Create(parallel), run_time=0.4)
        # copies of alpha and beta slide up to the top vertex (alternate angles)
        alpha_copy = Angle(Line(c, c + LEFT), Line(c, a), radius=0.6, color=RED)
        beta_copy = Angle(Line(c, b), Line(c, c + RIGHT), radius=0.6, color=GREEN)
        self.play(TransformFromCopy(angles[0], alpha_copy),
                  TransformFromCopy(angles[1], beta_copy), run_time=0.9)
        result = MathTex(r"\alpha + \beta + \gamma = 180^\circ").to_edge(DOWN)
        self.play(Write(result), run_time=0.5)
        self.wait(0.2)
