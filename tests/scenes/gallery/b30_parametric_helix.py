from manim import *

TURNS = 3
RADIUS = 1.5
PITCH = 0.35


def helix_point(t):
    return np.array([RADIUS * np.cos(t), RADIUS * np.sin(t), PITCH * t - PITCH * TURNS * PI])


class ParametricHelix(ThreeDScene):
    def construct(self):
        axes = ThreeDAxes(x_range=[-3, 3], y_range=[-3, 3], z_range=[-4, 4], x_length=6,
                          y_length=6, z_length=5)
        self.set_camera_orientation(phi=70 * DEGREES, theta=-45 * DEGREES)
        helix = ParametricFunction(helix_point, t_range=[0, TURNS * TAU], color=YELLOW,
                                   stroke_width=4)
        title = Text("helix  (cos t, sin t, ct)", font_size=28).to_corner(UL)
        self.add_fixed_in_frame_mobjects(title)

        self.add(axes)
        self.play(Create(helix), run_time=1.5, rate_func=linear)
        dot = Dot3D(helix_point(TURNS * TAU), color=RED, radius=0.1)
        self.add(dot)
        self.move_camera(theta=30 * DEGREES, run_time=1.2)
        self.wait(0.2)
