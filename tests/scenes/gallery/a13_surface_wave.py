from manim import *


class SurfaceWave(ThreeDScene):
    def construct(self):
        axes = ThreeDAxes(x_range=[-3, 3], y_range=[-3, 3], z_range=[-1, 1], x_length=6, y_length=6, z_length=2)
        surface = Surface(
            lambda u, v: axes.c2p(u, v, 0.8 * np.sin(u) * np.cos(v)),
            u_range=[-3, 3],
            v_range=[-3, 3],
            resolution=(8, 8),
            fill_opacity=0.8,
            checkerboard_colors=[BLUE_D, BLUE_E],
        )
        self.set_camera_orientation(phi=65 * DEGREES, theta=-45 * DEGREES)
        self.add(axes)
        self.play(Create(surface), run_time=1)
        self.move_camera(theta=15 * DEGREES, run_time=1.2)
        self.wait(0.3)
