from manim import *
import cmath

Z = complex(2, 1)
W = cmath.rect(1, PI / 3)


class ComplexRotation(Scene):
    def construct(self):
        plane = ComplexPlane(x_range=[-4, 4], y_range=[-3, 3]).add_coordinates()
        z_dot = Dot(plane.n2p(Z), color=YELLOW)
        z_arrow = Arrow(plane.n2p(0), plane.n2p(Z), buff=0, color=YELLOW)
        z_label = MathTex("z", color=YELLOW).next_to(z_dot, UR, buff=0.1)
        caption = MathTex(r"z \cdot e^{i\pi/3}", font_size=40).to_corner(UL).add_background_rectangle()

        self.add(plane)
        self.play(GrowArrow(z_arrow), FadeIn(z_dot, z_label), run_time=0.5)
        self.play(Write(caption), run_time=0.4)

        angle_arc = Arc(radius=0.8, start_angle=cmath.phase(Z), angle=cmath.phase(W), color=GREEN)
        product = Z * W
        self.play(
            Rotate(VGroup(z_arrow, z_dot), angle=cmath.phase(W), about_point=plane.n2p(0)),
            Create(angle_arc),
            z_label.animate.next_to(plane.n2p(product), UL, buff=0.15),
            run_time=1.2,
        )
        self.play(Flash(plane.n2p(product), color=GREEN), run_time=0.5)
        self.wait(0.2)
