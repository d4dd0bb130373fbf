from manim import *


class RateFunctionRace(Scene):
    def construct(self):
        funcs = {
            "linear": rate_functions.linear,
            "smooth": rate_functions.smooth,
            "there_and_back": rate_functions.there_and_back,
            "rush_into": rate_functions.rush_into,
        }
        tracks = VGroup(*[Line(LEFT * 2, RIGHT * 4.5, color=GREY_D) for _ in funcs])
        tracks.arrange(DOWN, buff=0.9).shift(RIGHT * 0.5)
        labels = VGroup(
            *[Text(name, font_size=26).next_to(track, LEFT, buff=0.4) for name, track in zip(funcs, tracks)]
        )
        movers = [Dot(track.get_start(), color=YELLOW) for track in tracks]

        self.add(tracks, labels, *movers)
        self.play(
            *[
                dot.animate(rate_func=f).move_to(track.get_end())
                for dot, track, f in zip(movers, tracks, funcs.values())
            ],
            run_time=2.5,
        )
        self.wait(0.3)
