from manim import *


class ArcsAndCurvedArrows(Scene):
    def construct(self):
        points = [LEFT * 4, LEFT * 1.3 + UP, RIGHT * 1.3 + UP, RIGHT * 4]
        dots = VGroup(*[Dot(p, color=WHITE) for p in points])
        names = VGroup(*[MathTex(s).next_to(d, DOWN) for s, d in zip("ABCD", dots)])
        arcs = VGroup(
            *[ArcBetweenPoints(p, q, angle=-PI / 2, color=TEAL) for p, q in zip(points, points[1:])]
        )
        back = CurvedArrow(points[-1] + DOWN * 0.3, points[0] + DOWN * 0.3, radius=-6, color=ORANGE)

        self.play(FadeIn(dots), FadeIn(names), run_time=0.5)
        self.play(LaggedStart(*[Create(a) for a in arcs], lag_ratio=0.5), run_time=1.2)
        self.play(Create(back), run_time=0.8)
        self.play(Indicate(names[0]), Indicate(names[-1]), run_time=0.5)
