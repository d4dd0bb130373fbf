"""Named topics (the Pythagorean theorem, the quadratic formula, ...): written content with checked
claims, kept as data in ``named.yaml`` (its header describes the vocabulary) and turned into scenes
here.

The table is read and validated once. Its literal parts (texts, LaTeX, claims, hand-written scene
code) are used as written; the parts that follow from mathematics (a plot's view, where a tangent
touches and its slope) are computed with sympy from the table's expressions, like an expression
topic's.
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources
from string import Template
from typing import Annotated, Any, Literal

import sympy
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainValidator,
    ValidationError,
    field_validator,
    model_validator,
)

from jobs.explainer.offline.parse import parse, variable
from jobs.explainer.offline.plots import plot_plan, plot_scene, tangent_point
from jobs.explainer.offline.printing import at, latex, sstr
from jobs.explainer.offline.scenes import Code, Content, Scene, add_heading, steps_scene, title_scene
from runner.config.validation import problems_from
from runner.config.yamlsource import parse_yaml
from runner.contract.errors import ManifestError

TABLE = "named.yaml"
# What a tangent plot's texts may refer to (``${x0}``): the point and the slope found there.
TANGENT_FIELDS = frozenset({"x0", "x0_latex", "slope_latex"})


def _count(least: int, most: int | None = None) -> AfterValidator:
    """A length check that runs once the items are valid (a constraint on the field itself would
    also count the items that failed, and report a second, misleading problem)."""

    def check(items: tuple[Any, ...]) -> tuple[Any, ...]:
        if len(items) < least or (most is not None and len(items) > most):
            if most is None:
                raise ValueError("must not be empty" if least == 1 else f"needs at least {least} items")
            raise ValueError(f"needs {least} to {most} items")
        return items

    return AfterValidator(check)


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Play(_Entry):
    """``self.play(<play>, run_time=<run_time>)``."""

    play: str
    run_time: float = Field(gt=0)


class Wait(_Entry):
    """``self.wait(<wait>)``."""

    wait: float = Field(gt=0)


def _body_step(value: Any) -> str | Play | Wait:
    """A code scene's step, told apart by its shape (a union would name every shape it tried)."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and "play" in value:
        return Play.model_validate(value)
    if isinstance(value, dict) and "wait" in value:
        return Wait.model_validate(value)
    raise ValueError("must be statements (text), {play: ..., run_time: ...} or {wait: ...}")


class TitleCard(_Entry):
    """A big heading, an optional formula and an optional note (see :func:`title_scene`)."""

    kind: Literal["title"]
    key: str
    title: str
    goal: str
    heading: str
    latex: str | None = None
    note: str | None = None
    claims: tuple[str, ...] = ()


class Steps(_Entry):
    """A heading and a column of formulas written one by one (see :func:`steps_scene`)."""

    kind: Literal["steps"]
    key: str
    title: str
    goal: str
    heading: str
    lines: Annotated[tuple[str, ...], _count(1, 4)]
    note: str | None = None
    box_last: bool = True
    transform: bool = False
    claims: tuple[str, ...] = ()


class CodeScene(_Entry):
    """A hand-written scene: statements (a block of lines each), plays and waits, in order."""

    kind: Literal["code"]
    key: str
    title: str
    goal: str
    heading: str | None = None
    numpy: bool = False
    body: Annotated[tuple[Annotated[str | Play | Wait, PlainValidator(_body_step)], ...], _count(1)]
    claims: tuple[str, ...] = ()


class PlotScene(_Entry):
    """A function of one variable on axes (see :func:`plot_scene`); left out when it cannot be drawn."""

    kind: Literal["plot"]
    key: str
    title: str
    goal: str
    heading: str
    label: str
    function: str
    window: tuple[float, float]
    include_y: tuple[float, ...] = ()
    cover: tuple[float, float] | None = None
    area: tuple[float, float] | None = None
    dots: tuple[tuple[float, float], ...] = ()
    tangent: bool = False
    claims: tuple[str, ...] = ()

    @field_validator("function")
    @classmethod
    def _one_variable(cls, v: str) -> str:
        expr = parse(v)
        if expr is None or variable(expr) is None:
            raise ValueError("must be an expression of one variable in the topic parser's syntax")
        return v

    @model_validator(mode="after")
    def _known_fields(self) -> PlotScene:
        for text in (self.title, self.goal, self.heading, self.label):
            template = Template(text)
            names = set(template.get_identifiers())
            if not template.is_valid():
                raise ValueError(f"{text!r}: a $ must start a ${{name}} field (write $$ for a dollar)")
            if names and not self.tangent:
                raise ValueError(f"{text!r}: ${{name}} fields need tangent: true")
            if names - TANGENT_FIELDS:
                known = ", ".join(f"${{{name}}}" for name in sorted(TANGENT_FIELDS))
                raise ValueError(f"{text!r}: a tangent plot's texts may use {known}")
        return self


NamedScene = TitleCard | Steps | CodeScene | PlotScene
_SCENE_KINDS: dict[str, type[NamedScene]] = {
    "title": TitleCard, "steps": Steps, "code": CodeScene, "plot": PlotScene,
}


def _scene_entry(value: Any) -> NamedScene:
    """A scene, validated by the model its ``kind`` names (a union would name every kind it tried)."""
    kind = value.get("kind") if isinstance(value, dict) else None
    model = _SCENE_KINDS.get(kind) if isinstance(kind, str) else None
    if model is None:
        raise ValueError(f"must be a mapping with a kind: {', '.join(_SCENE_KINDS)}")
    return model.model_validate(value)


class NamedTopic(_Entry):
    """One named topic: what picks it, and its scenes."""

    id: str
    title: str
    patterns: Annotated[tuple[re.Pattern[str], ...], _count(1)]
    examples: Annotated[tuple[str, ...], _count(1)]
    scenes: Annotated[tuple[Annotated[NamedScene, PlainValidator(_scene_entry)], ...], _count(2, 4)]


class NamedTable(_Entry):
    """The table: the first topic with a matching pattern answers."""

    topics: Annotated[tuple[NamedTopic, ...], _count(1)]

    @model_validator(mode="after")
    def _unique_ids(self) -> NamedTable:
        ids = [t.id for t in self.topics]
        repeated = sorted({i for i in ids if ids.count(i) > 1})
        if repeated:
            raise ValueError(f"topic ids must be unique: {', '.join(repeated)} repeated")
        return self


def read_table(text: str, name: str = TABLE) -> NamedTable:
    """Validate a named-topic table.

    Args:
        text: The YAML text.
        name: How to name the file in problems.

    Returns:
        The table.

    Raises:
        ManifestError: invalid YAML, duplicate keys, or entries that do not validate (every problem
            at once, as ``FILE:LINE: key.path: message``).
    """
    source = parse_yaml(text, name)
    try:
        return NamedTable.model_validate(source.data)
    except ValidationError as exc:
        raise ManifestError(problems_from(exc, source)) from exc


@cache
def table() -> NamedTable:
    """The package's table, read once."""
    text = resources.files("jobs.explainer.offline").joinpath(TABLE).read_text(encoding="utf-8")
    return read_table(text, f"jobs/explainer/offline/{TABLE}")


def named_content(text: str) -> Content | None:
    """The content of the first named topic with a pattern found in ``text`` (lowercased).

    Args:
        text: The cleaned topic text.

    Returns:
        The content, or None when no named topic matches.
    """
    lowered = text.lower()
    for topic in table().topics:
        if any(pattern.search(lowered) for pattern in topic.patterns):
            scenes = (_scene(spec) for spec in topic.scenes)
            return Content(topic.id, topic.title, tuple(s for s in scenes if s is not None))
    return None


def _scene(spec: NamedScene) -> Scene | None:
    if isinstance(spec, TitleCard):
        return title_scene(spec.key, spec.title, spec.goal, spec.heading, spec.latex, spec.note,
                           spec.claims)
    if isinstance(spec, Steps):
        return steps_scene(spec.key, spec.title, spec.goal, spec.heading, spec.lines,
                           claims=spec.claims, note=spec.note, box_last=spec.box_last,
                           transform=spec.transform)
    if isinstance(spec, CodeScene):
        return _code_scene(spec)
    return _plot_scene(spec)


def _code_scene(spec: CodeScene) -> Scene:
    c = Code(numpy=spec.numpy)
    if spec.heading is not None:
        add_heading(c, spec.heading)
    for step in spec.body:
        if isinstance(step, Play):
            c.play(step.play, step.run_time)
        elif isinstance(step, Wait):
            c.wait(step.wait)
        else:
            for line in step.splitlines():
                c(line)
    return Scene(spec.key, spec.title, spec.goal, c, spec.claims)


def _plot_scene(spec: PlotScene) -> Scene | None:
    f = parse(spec.function)
    x = variable(f) if f is not None else None
    if f is None or x is None:  # the table's validation rules this out
        return None
    plot = plot_plan(f, x, spec.window, include_y=spec.include_y, cover=spec.cover)
    if plot is None:
        return None
    fields: dict[str, str] = {}
    claims = list(spec.claims)
    tangent = None
    if spec.tangent:
        fp = sympy.diff(f, x)
        point = tangent_point(f, fp, x, plot)
        if point is None:
            return None
        x0, tangent, slope = point
        fields = {"x0": str(x0), "x0_latex": latex(x0), "slope_latex": latex(slope)}
        claims.append(f"{at(fp, x, x0)} == {sstr(slope)}")

    def fill(text: str) -> str:
        return Template(text).substitute(fields)

    return plot_scene(spec.key, fill(spec.title), fill(spec.goal), fill(spec.heading),
                      fill(spec.label), plot, claims=claims, area=spec.area, dots=spec.dots,
                      tangent=tangent)
