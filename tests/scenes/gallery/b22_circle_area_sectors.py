from manim import *

N = 12
R = 1.5


class CircleAreaSectors(Scene):
    def construct(self):
        wedge = TAU / N
        sectors = VGroup(*[
            Sector(radius=R, angle=wedge, start_angle=i * wedge,
                   fill_color=BLUE if i % 2 else TEAL, fill_opacity=0.8, stroke_width=1,
                   stroke_color=WHITE)
            for i in range(N)
        ]).shift(LEFT * 3.5)
        self.play(FadeIn(sectors), run_time=0.5)

        # rearrange: alternate wedges point up and down, side by side
        arc_len = R * wedge
        center = sectors.get_center()
        targets = VGroup()
        for i in range(N):
            piece = sectors[i].copy()
            points_up = i % 2 == 1
            piece.rotate(-(i + 0.5) * wedge + (PI / 2 if points_up else -PI / 2), about_point=center)
            tip_target = np.array([i * arc_len / 2, 0, 0]) + (DOWN if points_up else UP) * R / 2
            piece.shift(tip_target - center)
            targets.add(piece)
        targets.move_to(RIGHT * 2)

        self.play(*[Transform(s, t) for s, t in zip(sectors, targets)], run_time=1.5)
        brace_w = Brace(targets, DOWN)
        brace_h = Brace(targets, LEFT)
        w_label = MathTex(r"\pi r", font_size=36).next_to(brace_w, DOWN)
        h_label = MathTex("r", font_size=36).next_to(brace_h, LEFT)
        self.play(GrowFromCenter(brace_w), GrowFromCenter(brace_h), FadeIn(w_label, h_label),
                  run_time=0.6)
        self.wait(0.3)
