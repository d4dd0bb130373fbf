from manim import *

N_HARMONICS = [1, 3, 5, 9, 15]


def partial_sum(n_max):
    odd = range(1, n_max + 1, 2)
    return lambda x: 4 / PI * sum(np.sin(k * x) / k for k in odd)


class FourierSquareWave(Scene):
    def construct(self):
        axes = Axes(x_range=[0, 2 * PI, PI / 2], y_range=[-1.5, 1.5, 0.5],
                    x_length=10, y_length=4.5, tips=False)
        square = VGroup(
            axes.plot(lambda x: 1, x_range=[0, PI], color=GREY),
            axes.plot(lambda x: -1, x_range=[PI, 2 * PI], color=GREY),
        ).set_stroke(opacity=0.6)
        self.add(axes, square)

        wave = axes.plot(partial_sum(N_HARMONICS[0]), color=YELLOW)
        counter = Text(f"harmonics up to {N_HARMONICS[0]}", font_size=28).to_edge(UP)
        self.play(Create(wave), Write(counter), run_time=0.6)
        for n in N_HARMONICS[1:]:
            self.play(
                Transform(wave, axes.plot(partial_sum(n), color=YELLOW)),
                Transform(counter, Text(f"harmonics up to {n}", font_size=28).to_edge(UP)),
                run_time=0.45,
            )
        self.wait(0.3)
