from manim import *
from collections import Counter
import itertools

counts = Counter(a + b for a, b in itertools.product(range(1, 7), repeat=2))
SUMS = sorted(counts)
PROBS = [counts[s] / 36 for s in SUMS]


class DiceSumDistribution(Scene):
    def construct(self):
        chart = BarChart(
            values=[0] * len(SUMS),
            bar_names=[str(s) for s in SUMS],
            y_range=[0, 0.2, 0.05],
            x_length=10,
            y_length=4.5,
            bar_colors=[BLUE, TEAL, GREEN, YELLOW],
            x_axis_config={"font_size": 28},
        ).shift(DOWN * 0.4)
        title = Text("Sum of two dice", font_size=36).to_edge(UP)

        self.play(Create(chart), Write(title), run_time=0.8)
        self.play(chart.animate.change_bar_values(PROBS), run_time=1.2)
        peak = chart.bars[SUMS.index(7)]
        self.play(Indicate(peak, color=RED), run_time=0.7)
        self.wait(0.2)
