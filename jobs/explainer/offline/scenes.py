"""The scene-code builder: the lines of a ``construct()`` body and their timing, the planned
scene and the content of a topic, and the title, steps and table scenes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

# Scene timing (seconds of animation per scene; the contract asks for 3 to 6).
_MIN_SECONDS = 4.0
_MAX_SECONDS = 5.6


@dataclass
class Code:
    """Lines of a ``construct()`` body, with the animation time they add up to."""

    steps: list[tuple[str, str, float]] = field(default_factory=list)
    numpy: bool = False

    def __call__(self, line: str) -> None:
        """Add a plain statement."""
        self.steps.append(("line", line, 0.0))

    def play(self, animations: str, run_time: float) -> None:
        """Add ``self.play(animations, run_time=run_time)``."""
        self.steps.append(("play", animations, run_time))

    def wait(self, seconds: float) -> None:
        """Add ``self.wait(seconds)``."""
        self.steps.append(("wait", "", seconds))

    def seconds(self) -> float:
        """Total animation time so far."""
        return sum(t for kind, _, t in self.steps if kind != "line")

    def module(self, class_name: str) -> str:
        """The complete scene module.

        Run times are scaled down when they exceed ``_MAX_SECONDS`` and a final wait pads the
        scene to at least ``_MIN_SECONDS``.

        Args:
            class_name: The Scene subclass name.

        Returns:
            Python source.
        """
        total = self.seconds()
        scale = _MAX_SECONDS / total if total > _MAX_SECONDS else 1.0
        body: list[str] = []
        elapsed = 0.0
        for kind, text, seconds in self.steps:
            t = round(seconds * scale, 2)
            if kind == "line":
                body.append(text)
            elif kind == "play":
                body.append(f"self.play({text}, run_time={t:g})")
                elapsed += t
            else:
                body.append(f"self.wait({t:g})")
                elapsed += t
        if elapsed < _MIN_SECONDS:
            body.append(f"self.wait({round(_MIN_SECONDS - elapsed, 2):g})")
        header = "from manim import *\n" + ("import numpy as np\n" if self.numpy else "")
        lines = "\n".join(f"        {line}" for line in body)
        return f"{header}\n\nclass {class_name}(Scene):\n    def construct(self):\n{lines}\n"


@dataclass(frozen=True)
class Scene:
    """One planned scene with its code body and claims."""

    key: str
    title: str
    goal: str
    code: Code
    claims: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        """Drop repeated claims, keeping their order."""
        object.__setattr__(self, "claims", tuple(dict.fromkeys(self.claims)))


@dataclass(frozen=True)
class Content:
    """Everything the offline LLM says about one topic."""

    kind: str
    title: str
    scenes: tuple[Scene, ...]


def fit(c: Code, name: str, width: float = 12.5, height: float = 0.0) -> None:
    """Scale mobject ``name`` down to fit a width (and optionally a height)."""
    c(f"{name}.scale_to_fit_width(min({name}.width, {width}))")
    if height:
        c(f"{name}.scale_to_fit_height(min({name}.height, {height}))")


def add_heading(c: Code, text: str) -> None:
    """Add a heading at the top of the frame and fade it in."""
    c(f"heading = Text({text!r}, font_size=34).to_edge(UP)")
    fit(c, "heading")
    c.play("FadeIn(heading, shift=DOWN * 0.2)", 0.6)


def title_scene(key: str, title: str, goal: str, heading: str, latex: str | None,
                note: str | None, claims: Sequence[str] = ()) -> Scene:
    """A title card: a big heading, an optional formula and an optional note.

    Args:
        key: Class name suffix.
        title: Plan title of the scene.
        goal: Plan goal of the scene.
        heading: Big text at the top.
        latex: A formula under it.
        note: A line of text under the formula.
        claims: Claims the formula shows.

    Returns:
        The scene.
    """
    c = Code()
    c(f"title = Text({heading!r}, font_size=44)")
    fit(c, "title")
    parts = ["title"]
    if latex:
        c(f"formula = MathTex({latex!r}, font_size=56)")
        fit(c, "formula")
        parts.append("formula")
    if note:
        c(f"note = Text({note!r}, font_size=28, color=GRAY_B)")
        fit(c, "note")
        parts.append("note")
    c(f"VGroup({', '.join(parts)}).arrange(DOWN, buff=0.6)")
    c.play("Write(title)", 1.2)
    if latex:
        c.play("Write(formula)", 1.5)
    if note:
        c.play("FadeIn(note, shift=UP * 0.3)", 0.8)
    c.wait(1.0)
    return Scene(key, title, goal, c, tuple(claims))


def steps_scene(key: str, title: str, goal: str, heading: str, lines: Sequence[str],
                claims: Sequence[str] = (), note: str | None = None, box_last: bool = True,
                transform: bool = False) -> Scene:
    """A heading and a column of formulas written one by one, the last one boxed.

    Args:
        key: Class name suffix.
        title: Plan title of the scene.
        goal: Plan goal of the scene.
        heading: Heading text.
        lines: LaTeX lines (1 to 4).
        claims: Claims the formulas show.
        note: A line of text under the formulas.
        box_last: Draw a box around the last line.
        transform: Turn a copy of the first line into the second instead of writing it.

    Returns:
        The scene.
    """
    c = Code()
    add_heading(c, heading)
    names = []
    for i, latex in enumerate(lines[:4]):
        c(f"m{i} = MathTex({latex!r}, font_size=48)")
        names.append(f"m{i}")
    parts = list(names)
    if note:
        c(f"note = Text({note!r}, font_size=26, color=GRAY_B)")
        parts.append("note")
    c(f"body = VGroup({', '.join(parts)}).arrange(DOWN, buff=0.45)")
    fit(c, "body", 12.5, 5.6)
    c("body.move_to(DOWN * 0.4)")
    per_line = 1.0 if len(names) <= 3 else 0.8
    for i, name in enumerate(names):
        if transform and i == 1:
            c.play(f"TransformFromCopy(m0, {name})", per_line + 0.3)
        else:
            c.play(f"Write({name})", per_line)
    if box_last and names:
        c(f"box = SurroundingRectangle({names[-1]}, color=YELLOW, buff=0.15)")
        c.play("Create(box)", 0.6)
    if note:
        c.play("FadeIn(note)", 0.6)
    c.wait(0.8)
    return Scene(key, title, goal, c, tuple(claims))


def table_scene(key: str, title: str, goal: str, heading: str, rows: Sequence[str]) -> Scene:
    """A column of text rows faded in one after another."""
    c = Code()
    add_heading(c, heading)
    items = ", ".join(f"Text({row!r}, font_size=30)" for row in rows[:6])
    c(f"rows = VGroup({items}).arrange(DOWN, aligned_edge=LEFT, buff=0.3)")
    fit(c, "rows", 12.5, 5.4)
    c("rows.next_to(heading, DOWN, buff=0.6)")
    c.play("LaggedStart(*[FadeIn(r, shift=RIGHT * 0.3) for r in rows], lag_ratio=0.3)", 2.4)
    c.wait(1.0)
    return Scene(key, title, goal, c)
