from manim import *


class PolarRose(Scene):
    def construct(self):
        plane = PolarPlane(radius_max=3, size=6, azimuth_units="PI radians", azimuth_step=8,
                           background_line_style={"stroke_opacity": 0.4}).add_coordinates()
        rose = plane.plot_polar_graph(lambda theta: 2.5 * np.cos(3 * theta),
                                      theta_range=[0, PI], color=PINK, stroke_width=4)
        formula = MathTex(r"r = 2.5\cos 3\theta", font_size=40).to_corner(UL)

        self.add(plane)
        self.play(Write(formula), run_time=0.5)
        self.play(Create(rose), run_time=2, rate_func=linear)
        self.play(rose.animate.set_fill(PINK, opacity=0.3), run_time=0.4)
        self.wait(0.2)
