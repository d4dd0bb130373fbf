from manim import *
import random

random.seed(4)
VALUES = random.sample(range(1, 9), 6)
BAR_WIDTH = 0.8


def make_bar(value):
    bar = Rectangle(width=BAR_WIDTH, height=value * 0.5, fill_opacity=0.8,
                    color=interpolate_color(BLUE, RED, value / 8))
    label = Integer(value, font_size=28).next_to(bar, DOWN, buff=0.1)
    return VGroup(bar, label)


class BubbleSortBars(Scene):
    def construct(self):
        bars = [make_bar(v) for v in VALUES]
        group = VGroup(*bars).arrange(RIGHT, buff=0.3, aligned_edge=DOWN).move_to(DOWN * 0.5)
        self.play(FadeIn(group, shift=UP * 0.3), run_time=0.4)

        values = list(VALUES)
        swaps = 0
        for i in range(len(values)):
            for j in range(len(values) - 1 - i):
                if values[j] > values[j + 1] and swaps < 5:
                    a, b = bars[j], bars[j + 1]
                    xa, xb = a.get_x(), b.get_x()
                    self.play(a.animate.set_x(xb), b.animate.set_x(xa), run_time=0.35)
                    bars[j], bars[j + 1] = b, a
                    values[j], values[j + 1] = values[j + 1], values[j]
                    swaps += 1
        self.play(*[Indicate(b[0], scale_factor=1.05) for b in bars], run_time=0.4)
        self.wait(0.2)
