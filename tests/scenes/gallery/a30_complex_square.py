from manim import *


class ComplexSquare(Scene):
    def construct(self):
        plane = ComplexPlane(x_range=[-3, 3], y_range=[-3, 3]).add_coordinates()
        title = MathTex(r"z \mapsto z^2", font_size=40).to_corner(UL).add_background_rectangle()
        moving = ComplexPlane(x_range=[-1.5, 1.5, 0.25], y_range=[-1.5, 1.5, 0.25],
                              background_line_style={"stroke_color": YELLOW, "stroke_opacity": 0.7})
        moving.prepare_for_nonlinear_transform()

        self.add(plane, moving, title)
        self.play(moving.animate.apply_complex_function(lambda z: z**2), run_time=2)
        self.wait(0.4)
