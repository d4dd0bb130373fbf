from manim import *

SIDE = 5.0
STEPS = 7


class GeometricSeriesSquares(Scene):
    def construct(self):
        outline = Square(side_length=SIDE, color=WHITE).shift(LEFT * 2)
        self.add(outline)

        remaining = outline.copy()
        pieces = VGroup()
        for i in range(STEPS):
            w, h = remaining.width, remaining.height
            # cut the remaining rectangle in half along its longer side
            if w >= h:
                piece = Rectangle(width=w / 2, height=h).align_to(remaining, LEFT + UP)
                remaining = Rectangle(width=w / 2, height=h).align_to(remaining, RIGHT + UP)
            else:
                piece = Rectangle(width=w, height=h / 2).align_to(remaining, DOWN + RIGHT)
                remaining = Rectangle(width=w, height=h / 2).align_to(remaining, UP + RIGHT)
            piece.set_stroke(WHITE, 1).set_fill(color_gradient([BLUE, PURPLE], STEPS)[i], 0.8)
            pieces.add(piece)

        terms = [MathTex(rf"\tfrac{{1}}{{{2 ** (i + 1)}}}", font_size=30).move_to(p)
                 for i, p in enumerate(pieces[:4])]
        total = MathTex(r"\sum_{n=1}^{\infty} \frac{1}{2^n} = 1").to_edge(RIGHT, buff=0.8)

        for i, piece in enumerate(pieces):
            anims = [FadeIn(piece, scale=0.8)]
            if i < len(terms):
                anims.append(Write(terms[i]))
            self.play(*anims, run_time=0.3)
        self.play(Write(total), run_time=0.6)
        self.wait(0.2)
