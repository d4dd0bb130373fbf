from manim import *

LENGTH = 3.0
GRAVITY = 9.8
PIVOT = UP * 2.5


class PendulumUpdater(Scene):
    def construct(self):
        state = {"theta": PI / 3, "omega": 0.0}

        def bob_position():
            th = state["theta"]
            return PIVOT + LENGTH * np.array([np.sin(th), -np.cos(th), 0])

        ceiling = Line(PIVOT + LEFT, PIVOT + RIGHT, color=GREY)
        rod = Line(PIVOT, bob_position(), color=WHITE)
        bob = Circle(radius=0.25, color=BLUE, fill_opacity=1).move_to(bob_position())

        def step(mob, dt):
            for _ in range(4):  # a few sub-steps keep the integration stable
                h = dt / 4
                state["omega"] += -GRAVITY / LENGTH * np.sin(state["theta"]) * h
                state["theta"] += state["omega"] * h
            mob.move_to(bob_position())

        bob.add_updater(step)
        rod.add_updater(lambda m: m.put_start_and_end_on(PIVOT, bob.get_center()))
        trail = TracedPath(bob.get_center, dissipating_time=0.6, stroke_color=YELLOW)

        self.add(ceiling, trail, rod, bob, Dot(PIVOT))
        self.wait(3)
        bob.clear_updaters()
        rod.clear_updaters()
