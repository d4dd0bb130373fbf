"""Plots of a function of one real variable: planning the view and the finite pieces of the graph,
and the plot scene (area, dots, tangent, asymptote, approximating curves)."""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import sympy

from jobs.explainer.offline.printing import nice
from jobs.explainer.offline.scenes import Code, Scene, add_heading, fit
from jobs.explainer.offline.text import fl

WINDOWS = ((-4.0, 4.0), (0.0, 4.0), (-4.0, 0.0), (0.0, 8.0), (-8.0, 0.0))


@dataclass(frozen=True)
class Plot:
    """How to draw a function of one real variable on Axes."""

    x_range: tuple[float, float, float]
    y_range: tuple[float, float, float]
    segments: tuple[tuple[float, float], ...]
    code: str
    func: Callable[[Any], Any]


def _nice_step(span: float) -> float:
    """A tick step of the form 1, 2 or 5 times a power of ten, about ``span``."""
    if not span > 0 or not math.isfinite(span):
        return 1.0
    power = 10.0 ** math.floor(math.log10(span))
    for factor in (1.0, 2.0, 5.0, 10.0):
        if span <= factor * power:
            return factor * power
    return 10.0 * power


def _decimals(step: float) -> int:
    """Decimal places needed to print multiples of a tick step."""
    if abs(step - round(step)) < 1e-9:
        return 0
    return max(0, min(4, -math.floor(math.log10(step) + 1e-9)))


def numpy_code(expr: sympy.Expr, var: sympy.Symbol) -> str | None:
    """NumPy source for ``expr`` as a function of ``x`` (``np.`` prefixes), or None."""
    from sympy.printing.numpy import NumPyPrinter

    x = sympy.Symbol("x")
    code = str(NumPyPrinter().doprint(expr.xreplace({var: x}))).replace("numpy.", "np.")
    if "#" in code or "\n" in code or not re.fullmatch(r"[A-Za-z0-9_.+\-*/(), ]+", code):
        return None
    for name in re.findall(r"[A-Za-z_][A-Za-z0-9_.]*", code):
        if name not in ("x", "abs") and not re.fullmatch(r"np\.[a-z0-9]+", name):
            return None
    return code


def evaluate(func: Callable[[Any], Any], xs: Any) -> Any:
    """Evaluate a lambdified function on a numpy grid: non-real or failing points become nan."""
    import numpy as np

    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        try:
            values = np.asarray(func(xs))
        except Exception:
            return np.full(xs.shape, np.nan)
        values = np.broadcast_to(values, xs.shape)
        if np.iscomplexobj(values):
            values = np.where(np.abs(values.imag) < 1e-12, values.real, np.nan)
        try:
            return values.astype(float)
        except (TypeError, ValueError):
            return np.full(xs.shape, np.nan)


def _runs(mask: Any, xs: Any) -> list[tuple[float, float]]:
    """Maximal runs of True in ``mask`` (at least 3 points) as x intervals."""
    runs: list[tuple[float, float]] = []
    start = None
    for i, flag in enumerate([*list(mask), False]):
        if flag and start is None:
            start = i
        elif not flag and start is not None:
            if i - start >= 3:
                runs.append((float(xs[start]), float(xs[i - 1])))
            start = None
    return runs


def plot_plan(expr: sympy.Expr, var: sympy.Symbol, window: tuple[float, float], *,
              include_y: Sequence[float] = (), cover: tuple[float, float] | None = None
              ) -> Plot | None:
    """Plan a plot of ``expr`` over ``window``: ranges, finite pieces and numpy code.

    Args:
        expr: A real function of ``var``.
        var: Its variable.
        window: The x interval to show.
        include_y: y values the view must contain (a limit, a tangent point).
        cover: An x interval on which the whole graph must be visible (an integral's bounds).

    Returns:
        The plan, or None when the function is not real and finite on enough of the window.
    """
    import numpy as np

    if expr.free_symbols - {var}:
        return None
    code = numpy_code(expr, var)
    if code is None:
        return None
    func = sympy.lambdify(var, expr, modules="numpy")
    lo, hi = window
    x_step = _nice_step((hi - lo) / 8)
    x_min = math.floor(lo / x_step + 1e-9) * x_step
    x_max = math.ceil(hi / x_step - 1e-9) * x_step
    xs = np.linspace(x_min, x_max, 401)
    ys = evaluate(func, xs)
    finite = np.isfinite(ys)
    if finite.sum() < 0.25 * len(xs):
        return None
    values = ys[finite]
    y_lo, y_hi = float(values.min()), float(values.max())
    p_lo, p_hi = (float(v) for v in np.percentile(values, [5, 95]))
    if y_hi - y_lo > 6 * (p_hi - p_lo) + 1e-9:
        spread = p_hi - p_lo
        y_lo, y_hi = p_lo - 0.3 * spread, p_hi + 0.3 * spread
    extra = [float(v) for v in include_y if math.isfinite(float(v))]
    if cover is not None:
        inside = finite & (xs >= cover[0] - 1e-9) & (xs <= cover[1] + 1e-9)
        extra += [0.0, *(float(v) for v in ys[inside])]
    if extra:
        y_lo, y_hi = min(y_lo, *extra), max(y_hi, *extra)
    if y_lo > 0 and y_lo < 0.6 * (y_hi - y_lo):
        y_lo = 0.0
    if y_hi < 0 and -y_hi < 0.6 * (y_hi - y_lo):
        y_hi = 0.0
    if y_hi - y_lo < 1e-6:
        y_lo, y_hi = y_lo - 1.0, y_hi + 1.0
    margin = 0.08 * (y_hi - y_lo)
    y_step = _nice_step((y_hi - y_lo + 2 * margin) / 6)
    y_min = math.floor((y_lo - margin) / y_step) * y_step
    y_max = math.ceil((y_hi + margin) / y_step) * y_step
    visible = finite & (ys >= y_min) & (ys <= y_max)
    segments = _runs(visible, xs)
    if not segments or len(segments) > 12:
        return None
    return Plot((x_min, x_max, x_step), (y_min, y_max, y_step), tuple(segments), code, func)


def segments_for(expr: sympy.Expr, var: sympy.Symbol, plot: Plot) -> list[tuple[float, float]]:
    """Pieces of another function's graph that stay inside an existing plot's view."""
    import numpy as np

    func = sympy.lambdify(var, expr, modules="numpy")
    xs = np.linspace(plot.x_range[0], plot.x_range[1], 401)
    ys = evaluate(func, xs)
    visible = np.isfinite(ys) & (ys >= plot.y_range[0]) & (ys <= plot.y_range[1])
    return _runs(visible, xs)


def best_plot(expr: sympy.Expr, var: sympy.Symbol, windows: Sequence[tuple[float, float]],
              **kwargs: Any) -> Plot | None:
    """The first window in which the function plots well (most of it finite)."""
    best: Plot | None = None
    best_cover = 0.0
    for window in windows:
        plan = plot_plan(expr, var, window, **kwargs)
        if plan is None:
            continue
        span = plan.x_range[1] - plan.x_range[0]
        cover = sum(b - a for a, b in plan.segments) / span
        if cover >= 0.6:
            return plan
        if cover > best_cover:
            best, best_cover = plan, cover
    return best


def value_at(plot: Plot, x: float) -> float | None:
    """The plotted function's value at ``x`` when finite and inside the view."""
    import numpy as np

    y = evaluate(plot.func, np.array([float(x)]))[0]
    if not math.isfinite(y) or not plot.y_range[0] <= y <= plot.y_range[1]:
        return None
    return float(y)


def in_segments(plot: Plot, x: float, margin: float = 0.0) -> bool:
    """Whether ``x`` lies inside one of the plotted pieces (with a margin from their ends)."""
    return any(a + margin <= x <= b - margin for a, b in plot.segments)


@dataclass(frozen=True)
class Tangent:
    x0: float
    y0: float
    slope: float


def plot_scene(key: str, title: str, goal: str, heading: str, label: str, plot: Plot, *,
               claims: Sequence[str] = (), area: tuple[float, float] | None = None,
               dots: Sequence[tuple[float, float]] = (),
               holes: Sequence[tuple[float, float]] = (), tangent: Tangent | None = None,
               hline: float | None = None, morphs: Sequence[tuple[str, tuple[float, float]]] = (),
               second: tuple[str, Sequence[tuple[float, float]]] | None = None) -> Scene:
    """A plot scene: axes, the graph, and optional area, dots, tangent, asymptote, morphs.

    Args:
        key: Class name suffix.
        title: Plan title.
        goal: Plan goal.
        heading: Heading text.
        label: LaTeX label under the heading.
        plot: The plot plan.
        claims: Claims the scene shows.
        area: Shade the area under the graph between these x values.
        dots: Points to mark.
        holes: Points to mark with a hollow circle.
        tangent: A tangent line to draw.
        hline: Draw a dashed horizontal line at this y.
        morphs: Approximating curves (numpy code, x interval) shown one after another.
        second: Another curve (numpy code, pieces) drawn in green.

    Returns:
        The scene.
    """
    c = Code(numpy=True)
    add_heading(c, heading)
    c(f"label = MathTex({label!r}, font_size=36)")
    fit(c, "label")
    c("label.next_to(heading, DOWN, buff=0.25)")
    (x0, x1, xs), (y0, y1, ys) = plot.x_range, plot.y_range
    c(f"axes = Axes(x_range=[{fl(x0)}, {fl(x1)}, {fl(xs)}], "
      f"y_range=[{fl(y0)}, {fl(y1)}, {fl(ys)}], x_length=10, y_length=4.6, tips=False, "
      "axis_config={'include_numbers': True, 'font_size': 22}, "
      f"x_axis_config={{'decimal_number_config': {{'num_decimal_places': {_decimals(xs)}}}}}, "
      f"y_axis_config={{'decimal_number_config': {{'num_decimal_places': {_decimals(ys)}}}}})"
      ".to_edge(DOWN, buff=0.35)")
    step = fl((x1 - x0) / 200)
    segments = ", ".join(f"({fl(a)}, {fl(b)})" for a, b in plot.segments)
    c(f"graph = VGroup(*[axes.plot(lambda x: {plot.code}, x_range=[a, b, {step}], color=BLUE) "
      f"for a, b in [{segments}]])")
    c.play("Create(axes)", 1.0)
    c.play("Create(graph)", 1.2)
    c.play("Write(label)", 0.8)
    if area is not None:
        a, b = area
        c(f"piece = axes.plot(lambda x: {plot.code}, x_range=[{fl(a)}, {fl(b)}, {step}])")
        c(f"area = axes.get_area(piece, x_range=({fl(a)}, {fl(b)}), color=BLUE, opacity=0.4)")
        c.play("FadeIn(area)", 0.8)
    if second is not None:
        code, pieces = second
        parts = ", ".join(f"({fl(a)}, {fl(b)})" for a, b in pieces)
        c(f"other = VGroup(*[axes.plot(lambda x: {code}, x_range=[a, b, {step}], color=GREEN) "
          f"for a, b in [{parts}]])")
        c.play("Create(other)", 1.0)
    if tangent is not None:
        t = tangent
        half = 0.22 * (x1 - x0)
        lo, hi = max(x0, t.x0 - half), min(x1, t.x0 + half)
        if abs(t.slope) > 1e-12:
            ends = sorted(((y0 - t.y0) / t.slope + t.x0, (y1 - t.y0) / t.slope + t.x0))
            lo, hi = max(lo, ends[0]), min(hi, ends[1])
        c(f"dot = Dot(axes.c2p({fl(t.x0)}, {fl(t.y0)}), color=YELLOW)")
        c(f"tangent = axes.plot(lambda x: {fl(t.slope)} * (x - {fl(t.x0)}) + {fl(t.y0)}, "
          f"x_range=[{fl(lo)}, {fl(hi)}], color=YELLOW)")
        c.play("FadeIn(dot, scale=0.5)", 0.4)
        c.play("Create(tangent)", 0.8)
    if hline is not None:
        c(f"asymptote = DashedLine(axes.c2p({fl(x0)}, {fl(hline)}), "
          f"axes.c2p({fl(x1)}, {fl(hline)}), color=YELLOW)")
        c.play("Create(asymptote)", 0.6)
    marks = [f"Dot(axes.c2p({fl(px)}, {fl(py)}), color=YELLOW)" for px, py in dots[:6]]
    marks += [f"Circle(radius=0.09, color=YELLOW).move_to(axes.c2p({fl(px)}, {fl(py)}))"
              for px, py in holes[:4]]
    if marks:
        c(f"marks = VGroup({', '.join(marks)})")
        c.play("FadeIn(marks, scale=0.5)", 0.6)
        c.play("Indicate(marks)", 0.6)
    for i, (code, (a, b)) in enumerate(morphs[:3]):
        c(f"p{i} = axes.plot(lambda x: {code}, x_range=[{fl(a)}, {fl(b)}, {step}], "
          "color=ORANGE)")
        if i == 0:
            c.play("Create(p0)", 0.8)
        else:
            c.play(f"ReplacementTransform(p{i - 1}, p{i})", 0.7)
    c.wait(0.6)
    return Scene(key, title, goal, c, tuple(claims))


def tangent_point(f: sympy.Expr, fp: sympy.Expr, x: sympy.Symbol, plot: Plot
                  ) -> tuple[sympy.Rational, Tangent, sympy.Expr] | None:
    """A point where a tangent line can be drawn: inside the plot, finite value and slope."""
    span = plot.x_range[1] - plot.x_range[0]
    for candidate in (1, 2, -1, sympy.Rational(1, 2), 3, -2, sympy.Rational(3, 2), 0):
        x0 = sympy.Rational(candidate)
        if not in_segments(plot, float(x0), 0.05 * span):
            continue
        y0 = value_at(plot, float(x0))
        slope = fp.subs(x, x0)
        if y0 is None or not slope.is_real or not slope.is_finite or not nice(slope, 60):
            continue
        try:
            m = float(slope)
        except (TypeError, ValueError):
            continue
        if abs(m) > 1e6:
            continue
        return x0, Tangent(float(x0), y0, m), sympy.nsimplify(slope) if slope.is_Float else slope
    return None
