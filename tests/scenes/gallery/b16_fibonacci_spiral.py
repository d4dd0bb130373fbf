from manim import *

N_SQUARES = 8
UNIT = 0.18
COLORS = [BLUE_D, TEAL_D, GREEN_D, YELLOW_D, GOLD_D, RED_D, MAROON_D, PURPLE_D]
# each new square goes on this side of everything so far; the arc's centre is that corner
DIRECTIONS = [RIGHT, UP, LEFT, DOWN]
ARC_CENTERS = [UL, DL, DR, UR]


def fibonacci(n):
    seq = [1, 1]
    while len(seq) < n:
        seq.append(seq[-1] + seq[-2])
    return seq[:n]


class FibonacciSpiral(Scene):
    def construct(self):
        squares, arcs = VGroup(), VGroup()
        x0, x1, y0, y1 = 0, 1, 0, 1  # bounding box, in units
        for i, n in enumerate(fibonacci(N_SQUARES)):
            k = (i - 1) % 4
            if i == 0:
                box = (0, 1, 0, 1)
            elif k == 0:
                box = (x1, x1 + n, y0, y0 + n)
            elif k == 1:
                box = (x0, x0 + n, y1, y1 + n)
            elif k == 2:
                box = (x0 - n, x0, y1 - n, y1)
            else:
                box = (x1 - n, x1, y0 - n, y0)
            x0, x1 = min(x0, box[0]), max(x1, box[1])
            y0, y1 = min(y0, box[2]), max(y1, box[3])

            center = np.array([(box[0] + box[1]) / 2, (box[2] + box[3]) / 2, 0]) * UNIT
            square = Square(side_length=n * UNIT, color=COLORS[i], fill_opacity=0.5,
                            stroke_width=2).move_to(center)
            arc = Arc(radius=n * UNIT, start_angle=-PI / 2 + k * PI / 2, angle=PI / 2,
                      arc_center=square.get_corner(ARC_CENTERS[k]), color=WHITE, stroke_width=3)
            squares.add(square)
            arcs.add(arc)
        VGroup(squares, arcs).move_to(ORIGIN)

        self.play(LaggedStart(*[FadeIn(s, scale=0.5) for s in squares], lag_ratio=0.25), run_time=1.5)
        self.play(Create(arcs), run_time=1.2, rate_func=linear)
        self.wait(0.3)
