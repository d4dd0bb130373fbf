from manim import *

RADIUS = 2


class UnitCircleProjections(Scene):
    def construct(self):
        plane = NumberPlane(x_range=[-4, 4], y_range=[-3, 3], background_line_style={
            "stroke_opacity": 0.3})
        circle = Circle(radius=RADIUS, color=WHITE)
        theta = ValueTracker(0.3)

        def tip():
            a = theta.get_value()
            return RADIUS * np.array([np.cos(a), np.sin(a), 0])

        radius_line = always_redraw(lambda: Line(ORIGIN, tip(), color=YELLOW))
        dot = always_redraw(lambda: Dot(tip(), color=YELLOW))
        cos_line = always_redraw(lambda: Line(ORIGIN, [tip()[0], 0, 0], color=BLUE, stroke_width=6))
        sin_line = always_redraw(lambda: Line([tip()[0], 0, 0], tip(), color=RED, stroke_width=6))
        arc = always_redraw(lambda: Arc(radius=0.5, angle=theta.get_value(), color=GREEN))

        legend = VGroup(
            Text("cos θ", font_size=28, color=BLUE),
            Text("sin θ", font_size=28, color=RED),
        ).arrange(DOWN, aligned_edge=LEFT).to_corner(UL)

        self.add(plane, circle)
        self.play(Create(radius_line), FadeIn(dot, cos_line, sin_line, arc, legend), run_time=0.5)
        self.play(theta.animate.set_value(TAU * 0.8), run_time=2.5, rate_func=linear)
        self.wait(0.2)
