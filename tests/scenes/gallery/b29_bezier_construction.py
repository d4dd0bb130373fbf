from manim import *
from dataclasses import dataclass

CONTROL_POINTS = [LEFT * 5 + DOWN * 2, LEFT * 3 + UP * 2.5, RIGHT * 2 + UP * 2.5, RIGHT * 5 + DOWN * 2]
label_count = 0


def next_label():
    global label_count
    label_count += 1
    return MathTex(f"P_{label_count - 1}", font_size=32)


def lerp(p, q, t):
    return (1 - t) * p + t * q


class BezierConstruction(Scene):
    @dataclass
    class Level:
        color: ManimColor
        dot_radius: float

    def construct(self):
        levels = [self.Level(BLUE, 0.06), self.Level(GREEN, 0.06), self.Level(YELLOW, 0.08)]
        controls = VGroup(*[Dot(p, color=GREY_A) for p in CONTROL_POINTS])
        labels = VGroup(*[next_label().next_to(d, UP if d.get_y() > 0 else DOWN) for d in controls])
        hull = VMobject(stroke_color=GREY, stroke_opacity=0.6).set_points_as_corners(CONTROL_POINTS)
        curve = CubicBezier(*CONTROL_POINTS, color=RED, stroke_width=5)

        self.play(FadeIn(controls, labels), Create(hull), run_time=0.6)

        t = ValueTracker(0)

        def construction():
            pts = list(CONTROL_POINTS)
            group = VGroup()
            for level in levels:
                pts = [lerp(p, q, t.get_value()) for p, q in zip(pts, pts[1:])]
                if len(pts) > 1:
                    group.add(VMobject(stroke_color=level.color).set_points_as_corners(pts))
                group.add(*[Dot(p, radius=level.dot_radius, color=level.color) for p in pts])
            return group

        scaffold = always_redraw(construction)
        drawn = always_redraw(lambda: curve.copy().pointwise_become_partial(curve, 0, t.get_value()))
        self.add(scaffold, drawn)
        self.play(t.animate.set_value(1), run_time=2.5, rate_func=linear)
        self.wait(0.2)
