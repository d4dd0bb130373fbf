from manim import *

TARGET = 37
LOW, HIGH = 0, 64


def search_steps(lo, hi, target):
    steps = []
    while lo <= hi:
        mid = (lo + hi) // 2
        steps.append((lo, hi, mid))
        if mid == target:
            break
        if mid < target:
            lo = mid + 1
        else:
            hi = mid - 1
    return steps


class BinarySearch(Scene):
    def construct(self):
        line = NumberLine(x_range=[LOW, HIGH, 8], length=12, include_numbers=True, font_size=24)
        goal = Text(f"find {TARGET}", font_size=32).to_edge(UP)
        self.add(line, goal)

        window = Rectangle(height=0.6, width=line.get_length(), color=BLUE,
                           fill_opacity=0.2).move_to(line)
        pointer = Arrow(UP, DOWN, color=YELLOW).next_to(line.n2p(32), UP)
        self.play(FadeIn(window), GrowArrow(pointer), run_time=0.4)

        for lo, hi, mid in search_steps(LOW, HIGH, TARGET):
            left, right = line.n2p(lo), line.n2p(hi)
            new_window = Rectangle(height=0.6, width=max(right[0] - left[0], 0.1),
                                   color=BLUE, fill_opacity=0.2).move_to((left + right) / 2)
            self.play(
                Transform(window, new_window),
                pointer.animate.next_to(line.n2p(mid), UP),
                run_time=0.35,
            )
        self.play(pointer.animate.set_color(GREEN), Flash(line.n2p(TARGET), color=GREEN), run_time=0.5)
        self.wait(0.2)
