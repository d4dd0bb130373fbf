from manim import *


class VennDiagram(Scene):
    def construct(self):
        a = Circle(radius=1.8, color=BLUE, fill_opacity=0.3).shift(LEFT * 1.1)
        b = Circle(radius=1.8, color=RED, fill_opacity=0.3).shift(RIGHT * 1.1)
        a_label = MathTex("A", color=BLUE).next_to(a, UL, buff=-0.3)
        b_label = MathTex("B", color=RED).next_to(b, UR, buff=-0.3)

        self.play(DrawBorderThenFill(a), DrawBorderThenFill(b), FadeIn(a_label, b_label), run_time=0.7)

        inter = Intersection(a, b, color=YELLOW, fill_opacity=0.8, stroke_width=0)
        caption = MathTex(r"A \cap B", color=YELLOW).to_edge(DOWN)
        self.play(FadeIn(inter), Write(caption), run_time=0.6)

        union = Union(a, b, color=GREEN, fill_opacity=0.5, stroke_width=4)
        union_caption = MathTex(r"A \cup B", color=GREEN).to_edge(DOWN)
        self.play(FadeOut(inter), FadeIn(union), Transform(caption, union_caption), run_time=0.6)

        only_a = Difference(a, b, color=BLUE, fill_opacity=0.9, stroke_width=0)
        diff_caption = MathTex(r"A \setminus B", color=BLUE).to_edge(DOWN)
        self.play(FadeOut(union), FadeIn(only_a), Transform(caption, diff_caption), run_time=0.6)
        self.wait(0.2)
