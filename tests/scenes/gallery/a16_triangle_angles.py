from manim import *


class TriangleAngles(Scene):
    def construct(self):
        A, B, C = np.array([-3, -1.5, 0]), np.array([3, -1.5, 0]), np.array([-3, 2, 0])
        base = Line(A, B)
        height = Line(A, C)
        hyp = Line(B, C)
        triangle = VGroup(base, height, hyp).set_color(WHITE)

        right = RightAngle(base, height, length=0.4, color=YELLOW)
        theta = Angle(Line(B, C), Line(B, A), radius=0.8, color=BLUE)
        theta_label = MathTex(r"\theta", color=BLUE).move_to(
            Angle(Line(B, C), Line(B, A), radius=1.2).point_from_proportion(0.5)
        )
        phi = Angle(Line(C, A), Line(C, B), radius=0.6, color=GREEN)

        self.play(Create(triangle), run_time=0.8)
        self.play(Create(right), run_time=0.4)
        self.play(Create(theta), Write(theta_label), run_time=0.6)
        self.play(Create(phi), run_time=0.4)
        self.play(Indicate(right, color=YELLOW), run_time=0.5)
