from manim import *

A_FREQ, B_FREQ = 3, 2
AMPLITUDE = 2.5


class LissajousTraced(Scene):
    def construct(self):
        t = ValueTracker(0)

        def position():
            s = t.get_value()
            return np.array([AMPLITUDE * np.sin(A_FREQ * s + PI / 2), AMPLITUDE * np.sin(B_FREQ * s), 0])

        dot = always_redraw(lambda: Dot(position(), color=YELLOW))
        trail = TracedPath(dot.get_center, stroke_color=BLUE, stroke_width=3)
        h_guide = always_redraw(lambda: DashedLine([-3.5, position()[1], 0], position(),
                                                   stroke_opacity=0.5))
        v_guide = always_redraw(lambda: DashedLine([position()[0], -3.2, 0], position(),
                                                   stroke_opacity=0.5))
        label = MathTex(r"(\cos 3t,\ \sin 2t)", font_size=34).to_corner(UR)

        self.add(trail, h_guide, v_guide, dot, label)
        self.play(t.animate.set_value(TAU), run_time=3, rate_func=linear)
        self.wait(0.2)
