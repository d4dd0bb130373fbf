from manim import *


def interval(line, lo, hi, color, closed_lo=True, closed_hi=False):
    seg = Line(line.n2p(lo), line.n2p(hi), color=color, stroke_width=8)
    ends = VGroup()
    for x, closed in ((lo, closed_lo), (hi, closed_hi)):
        dot = Dot(line.n2p(x), radius=0.12, color=color)
        if not closed:
            dot.set_fill(BLACK, opacity=1).set_stroke(color, width=3)
        ends.add(dot)
    return VGroup(seg, ends)


class InequalityIntervals(Scene):
    def construct(self):
        line = NumberLine(x_range=[-5, 5, 1], length=11, include_numbers=True, font_size=28)
        self.add(line)

        first = MathTex(r"-2 \le x < 3", font_size=40).to_edge(UP)
        band = interval(line, -2, 3, YELLOW, closed_lo=True, closed_hi=False).shift(UP * 0.5)
        self.play(Write(first), Create(band), run_time=0.8)

        second = MathTex(r"|x - 1| < 2", font_size=40).next_to(first, DOWN)
        band2 = interval(line, -1, 3, GREEN, closed_lo=False, closed_hi=False).shift(UP * 1.1)
        self.play(Write(second), Create(band2), run_time=0.8)

        both = interval(line, -1, 3, RED, closed_lo=False, closed_hi=False).shift(DOWN * 0.6)
        label = Text("both", font_size=26, color=RED).next_to(both, DOWN)
        self.play(TransformFromCopy(VGroup(band, band2), both), FadeIn(label), run_time=0.8)
        self.wait(0.2)
