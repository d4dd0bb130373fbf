from manim import *


class SumVariable(Scene):
    def construct(self):
        n_var = Variable(1, MathTex("n"), var_type=Integer)
        s_var = Variable(1, MathTex(r"\sum_{k=1}^{n} k"), var_type=Integer)
        group = VGroup(n_var, s_var).arrange(DOWN, aligned_edge=LEFT, buff=0.6).scale(1.2)
        closed = MathTex(r"\sum_{k=1}^{n} k = \frac{n(n+1)}{2}", color=YELLOW).next_to(group, DOWN, buff=0.8)

        s_var.add_updater(lambda v: v.tracker.set_value(n_var.tracker.get_value() * (n_var.tracker.get_value() + 1) // 2))

        self.add(group)
        self.play(n_var.tracker.animate.set_value(10), run_time=1.5, rate_func=linear)
        self.play(Write(closed), run_time=0.6)
        self.wait(0.2)
