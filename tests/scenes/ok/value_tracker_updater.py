from manim import *
"""Updaters: ValueTracker driving a dot, add_updater on a DecimalNumber, always_redraw lines."""


class ValueTrackerUpdater(Scene):
    def construct(self):
        tracker = ValueTracker(0)
        line = NumberLine(x_range=[0, 10, 1], length=10, include_numbers=True)
        dot = Dot(color=YELLOW)
        dot.add_updater(lambda m: m.move_to(line.n2p(tracker.get_value())))
        readout = DecimalNumber(0, num_decimal_places=1).to_edge(UP)
        readout.add_updater(lambda m: m.set_value(tracker.get_value()))
        stem = always_redraw(
            lambda: Line(dot.get_center(), readout.get_bottom(), color=GREY)
        )
        self.add(line, dot, readout, stem)
        self.play(tracker.animate.set_value(8), run_time=0.8)
        self.play(tracker.animate.set_value(3), run_time=0.5)
        dot.clear_updaters()
        readout.clear_updaters()
        self.wait(0.2)
