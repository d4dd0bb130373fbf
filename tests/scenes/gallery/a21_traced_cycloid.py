from manim import *


class TracedCycloid(Scene):
    def construct(self):
        r = 0.8
        ground = Line(LEFT * 6, RIGHT * 6).shift(DOWN * r)
        wheel = Circle(radius=r, color=BLUE).move_to(LEFT * 5)
        spoke = DashedLine(wheel.get_center(), wheel.get_bottom(), color=GREY_B)
        rim_dot = Dot(wheel.get_bottom(), color=YELLOW)
        wheel_group = VGroup(wheel, spoke, rim_dot)
        trace = TracedPath(rim_dot.get_center, stroke_color=YELLOW, stroke_width=3)

        def roll(mob, dt):
            dx = 2.5 * dt
            mob.shift(RIGHT * dx)
            mob.rotate(-dx / r, about_point=wheel.get_center())

        self.add(ground, trace, wheel_group)
        wheel_group.add_updater(roll)
        self.wait(3)
        wheel_group.clear_updaters()
