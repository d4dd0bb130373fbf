from manim import *
import math
"""A 2D multi-step scene: triangle, squares on its sides, labels, a boxed result, clean-up."""


class MultiStepPythagoras(Scene):
    def construct(self):
        a, b = 1.5, 2.0
        tri = Polygon(ORIGIN, RIGHT * b, UP * a, color=WHITE).move_to(LEFT * 2)
        corner = tri.get_vertices()[0]
        sq_b = Square(side_length=b, color=BLUE, fill_opacity=0.4)
        sq_b.next_to(corner, DOWN, buff=0).align_to(corner, LEFT)
        sq_a = Square(side_length=a, color=GREEN, fill_opacity=0.4)
        sq_a.next_to(corner, LEFT, buff=0).align_to(corner, DOWN)
        hyp = math.hypot(a, b)
        labels = VGroup(
            MathTex("a", font_size=32).move_to(sq_a),
            MathTex("b", font_size=32).move_to(sq_b),
            MathTex("c", font_size=32).next_to(tri.get_center(), UR, buff=0.2),
        )
        result = MathTex("a^2", "+", "b^2", "=", "c^2").to_edge(RIGHT, buff=1)
        box = SurroundingRectangle(result, color=YELLOW)
        self.play(Create(tri), run_time=0.3)
        self.play(GrowFromCenter(sq_a), GrowFromCenter(sq_b), run_time=0.3)
        self.play(FadeIn(labels), run_time=0.2)
        self.play(Write(result), run_time=0.3)
        self.play(Create(box), run_time=0.2)
        self.play(FadeOut(VGroup(tri, sq_a, sq_b, labels)), run_time=0.3)
        self.play(VGroup(result, box).animate.move_to(ORIGIN), run_time=0.2)
        self.add(Text(f"c = {hyp:.1f}", font_size=28).next_to(box, DOWN))
        self.wait(0.2)
