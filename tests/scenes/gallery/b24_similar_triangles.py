from manim import *

BASE = [ORIGIN, RIGHT * 2, RIGHT * 0.6 + UP * 1.4]
SCALE = 1.75


class SimilarTriangles(Scene):
    def construct(self):
        small = Polygon(*BASE, color=BLUE, fill_opacity=0.3).shift(LEFT * 4.5 + DOWN)
        big = small.copy().set_color(ORANGE).set_fill(ORANGE, opacity=0.3)

        def side_labels(tri, names, color):
            verts = tri.get_vertices()
            labels = VGroup()
            for (p, q), name in zip(zip(verts, np.roll(verts, -1, axis=0)), names):
                mid = (p + q) / 2
                outward = mid - tri.get_center()
                labels.add(MathTex(name, font_size=32, color=color).move_to(
                    mid + 0.35 * outward / np.linalg.norm(outward)))
            return labels

        small_labels = side_labels(small, ["a", "b", "c"], BLUE)
        self.play(DrawBorderThenFill(small), FadeIn(small_labels), run_time=0.6)

        self.play(big.animate.scale(SCALE).move_to(RIGHT * 1.5 + DOWN * 0.3), run_time=1.0)
        big_labels = side_labels(big, ["ka", "kb", "kc"], ORANGE)
        self.play(FadeIn(big_labels), run_time=0.4)
        ratio = MathTex(r"\frac{ka}{a} = \frac{kb}{b} = \frac{kc}{c} = k").to_edge(UP)
        self.play(Write(ratio), run_time=0.6)
        self.wait(0.2)
