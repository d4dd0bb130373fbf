from manim import *


class CameraZoomOnDetail(MovingCameraScene):
    def construct(self):
        axes = Axes(x_range=[-4, 4, 1], y_range=[-2, 2, 1], x_length=10, y_length=5)
        curve = axes.plot(lambda x: np.sin(3 * x) * np.exp(-0.2 * x**2), color=PURPLE)
        peak = Dot(axes.i2gp(PI / 6, curve), color=YELLOW)
        note = MathTex(r"x = \tfrac{\pi}{6}", font_size=24).next_to(peak, UR, buff=0.1)

        self.add(axes, curve)
        self.play(FadeIn(peak), run_time=0.4)
        self.camera.frame.save_state()
        self.play(self.camera.frame.animate.scale(0.3).move_to(peak), run_time=1)
        self.play(Write(note), run_time=0.5)
        self.play(Restore(self.camera.frame), run_time=0.8)
