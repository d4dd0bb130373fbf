from manim import *

ROWS = 7


def pascal_rows(n):
    rows = [[1]]
    for _ in range(n - 1):
        prev = rows[-1]
        rows.append([1] + [a + b for a, b in zip(prev, prev[1:])] + [1])
    return rows


class PascalTriangle(Scene):
    def construct(self):
        rows = pascal_rows(ROWS)
        numbers = VGroup()
        for r, row in enumerate(rows):
            line = VGroup(*[Integer(v, font_size=32) for v in row])
            for c, num in enumerate(line):
                num.move_to(np.array([(c - r / 2) * 0.9, 2.7 - r * 0.8, 0]))
            numbers.add(line)

        self.play(LaggedStart(*[FadeIn(row, shift=DOWN * 0.2) for row in numbers], lag_ratio=0.3),
                  run_time=1.5)

        r, c = 5, 2
        parents = VGroup(numbers[r - 1][c - 1], numbers[r - 1][c])
        child = numbers[r][c]
        self.play(parents.animate.set_color(YELLOW), run_time=0.3)
        self.play(child.animate.set_color(GREEN).scale(1.3), run_time=0.4)
        odd = [n for row_group, row in zip(numbers, rows) for n, v in zip(row_group, row) if v % 2]
        self.play(*[n.animate.set_color(RED) for n in odd], run_time=0.5)
        self.wait(0.2)
