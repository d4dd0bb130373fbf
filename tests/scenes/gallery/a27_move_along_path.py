from manim import *


class MoveAlongEllipse(Scene):
    def construct(self):
        orbit = Ellipse(width=7, height=4, color=GREY_B)
        sun = Dot(orbit.get_center() + RIGHT * 1.65, radius=0.2, color=YELLOW)
        planet = Dot(orbit.point_from_proportion(0), color=BLUE)
        radius = always_redraw(lambda: Line(sun.get_center(), planet.get_center(), color=BLUE_B, stroke_width=2))

        self.add(orbit, sun, radius, planet)
        self.play(MoveAlongPath(planet, orbit), run_time=2.5, rate_func=linear)
        self.play(Flash(planet, color=BLUE), run_time=0.5)
