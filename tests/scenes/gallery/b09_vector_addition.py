from manim import *

U = np.array([2, 1, 0])
V = np.array([1, 2, 0])


class VectorAddition(Scene):
    def construct(self):
        plane = NumberPlane(x_range=[-1, 5], y_range=[-1, 4], x_length=7, y_length=5,
                            background_line_style={"stroke_opacity": 0.4}).shift(LEFT)
        origin = plane.c2p(0, 0)

        def arrow(start, end, color):
            return Arrow(plane.c2p(*start[:2]), plane.c2p(*end[:2]), buff=0, color=color)

        u_arrow = arrow(ORIGIN, U, YELLOW)
        v_arrow = arrow(ORIGIN, V, BLUE)
        u_label = MathTex(r"\vec u", color=YELLOW).next_to(u_arrow.get_center(), DR, buff=0.1)
        v_label = MathTex(r"\vec v", color=BLUE).next_to(v_arrow.get_center(), UL, buff=0.1)

        self.add(plane, Dot(origin))
        self.play(GrowArrow(u_arrow), GrowArrow(v_arrow), FadeIn(u_label, v_label), run_time=0.6)
        self.play(v_arrow.animate.shift(plane.c2p(*U[:2]) - origin),
                  v_label.animate.shift(plane.c2p(*U[:2]) - origin), run_time=0.7)
        total = arrow(ORIGIN, U + V, GREEN)
        total_label = MathTex(r"\vec u + \vec v", color=GREEN).next_to(total.get_end(), UR, buff=0.1)
        self.play(GrowArrow(total), Write(total_label), run_time=0.7)
        self.wait(0.3)
