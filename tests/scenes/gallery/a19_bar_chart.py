from manim import *
import random


class DiceBarChart(Scene):
    def construct(self):
        random.seed(4)
        counts = [0] * 6
        chart = BarChart(
            values=[0.01] * 6,
            bar_names=[str(k) for k in range(1, 7)],
            y_range=[0, 12, 4],
            y_length=4,
            x_length=7,
            bar_colors=[BLUE, TEAL, GREEN, YELLOW, ORANGE, RED],
        )
        title = Text("Rolling a die", font_size=32).to_edge(UP)
        self.add(chart, title)
        for _ in range(3):
            for _ in range(12):
                counts[random.randint(0, 5)] += 1
            self.play(chart.animate.change_bar_values(counts), run_time=0.5)
        self.wait(0.3)
