from manim import *

N = 50
COLS = 10


def smallest_factor(n):
    return next((p for p in range(2, int(n ** 0.5) + 1) if n % p == 0), None)


class PrimeSieve(Scene):
    def construct(self):
        cells = VGroup()
        for n in range(1, N + 1):
            box = Square(side_length=0.6, stroke_width=1.5, color=GREY_B)
            label = Text(str(n), font_size=20).move_to(box)
            cells.add(VGroup(box, label))
        cells.arrange_in_grid(rows=N // COLS, cols=COLS, buff=0.05)
        title = Text("Sieve of Eratosthenes", font_size=32).to_edge(UP)
        self.add(cells, title)

        sieve_colors = {2: BLUE_E, 3: GREEN_E, 5: PURPLE_E, 7: MAROON_E}
        self.play(cells[0].animate.set_opacity(0.3), run_time=0.3)
        for p, color in sieve_colors.items():
            multiples = [cells[m - 1][0] for m in range(p * p, N + 1, p)
                         if smallest_factor(m) == p]
            self.play(cells[p - 1][0].animate.set_fill(YELLOW, opacity=0.8),
                      *[m.animate.set_fill(color, opacity=0.7) for m in multiples],
                      run_time=0.5)
        primes = [cells[n - 1][0] for n in range(2, N + 1) if smallest_factor(n) is None]
        self.play(*[p.animate.set_fill(YELLOW, opacity=0.8) for p in primes], run_time=0.5)
        self.wait(0.2)
