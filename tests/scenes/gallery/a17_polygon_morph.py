from manim import *


class PolygonMorph(Scene):
    def construct(self):
        shapes = [RegularPolygon(n, color=c).scale(1.5) for n, c in zip(range(3, 8), [RED, ORANGE, YELLOW, GREEN, BLUE])]
        shapes.append(Circle(radius=1.5, color=PURPLE))
        label = Integer(3).to_corner(UL)
        current = shapes[0]

        self.play(Create(current), FadeIn(label), run_time=0.5)
        for k, shape in enumerate(shapes[1:], start=4):
            new_label = Integer(k).to_corner(UL) if k < 8 else MathTex(r"\infty").to_corner(UL)
            self.play(Transform(current, shape), Transform(label, new_label), run_time=0.45)
        irregular = Polygon([-2, -1, 0], [1, -1.5, 0], [2, 1, 0], [0, 2, 0], [-1.5, 1, 0], color=TEAL)
        self.play(Transform(current, irregular), run_time=0.5)
