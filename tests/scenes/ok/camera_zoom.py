from manim import *
"""MovingCameraScene: zoom and pan with self.camera.frame.animate, then Restore the frame."""


class CameraZoom(MovingCameraScene):
    def construct(self):
        dots = VGroup(*[Dot(point, color=color) for point, color in [
            (LEFT * 3, RED), (ORIGIN, GREEN), (RIGHT * 3, BLUE)
        ]])
        label = Text("look here", font_size=24).next_to(dots[2], UP)
        self.add(dots, label)
        self.camera.frame.save_state()
        self.play(self.camera.frame.animate.scale(0.4).move_to(dots[2]), run_time=0.5)
        self.play(self.camera.frame.animate.move_to(dots[0]), run_time=0.5)
        self.play(Restore(self.camera.frame), run_time=0.4)
        self.wait(0.2)
