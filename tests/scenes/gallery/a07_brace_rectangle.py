from manim import *


class BraceRectangle(Scene):
    def construct(self):
        rect = Rectangle(width=5, height=2.5, color=BLUE, fill_opacity=0.3)
        width_label = BraceLabel(rect, "a", brace_direction=DOWN)
        height_label = BraceLabel(rect, "b", brace_direction=RIGHT)
        diag_brace = BraceBetweenPoints(rect.get_corner(UL), rect.get_corner(UR), direction=UP)
        diag_text = diag_brace.get_tex(r"\text{area} = ab")

        self.play(Create(rect), run_time=0.6)
        self.play(GrowFromCenter(width_label), GrowFromCenter(height_label), run_time=0.7)
        self.play(GrowFromCenter(diag_brace), Write(diag_text), run_time=0.7)
        self.wait(0.4)
