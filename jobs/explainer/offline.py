"""The explainer's deterministic, no-network "offline" LLM.

It answers the two LLM steps of the explainer pipeline (see ``contract.md``) without a model:

* :func:`decompose` plans 2 to 4 scenes for a topic;
* :func:`script` writes one Manim 0.22 scene module per planned scene, with the claims it shows;
* :func:`respond` recognises the steps' prompts by their ``FORMAT:`` line and answers with JSON text.

The content is topic-specific. Expression topics ("Derivative of x^2", "Integral of x^2 from 0 to 1",
"Limit of sin(x)/x as x -> 0", "Taylor series of e^x", "Solve x^2 - 5x + 6 = 0", "Factor x^2 - 1",
"Expand (x+1)^3", "Simplify ...", "Graph of ...") are parsed from the topic text and computed with
sympy; named topics (the Pythagorean theorem, the quadratic formula, ...) have written content with
checked claims; anything else gets a generic title / key idea / summary explainer without claims.

Safety: the topic is user input. Only text matching a strict allowlist (digits, ASCII letters, spaces
and ``+ - * / ^ ( ) . , =``; single-letter names or a few function names; at most 120 characters;
no attribute access) reaches sympy's parser, whose namespace has no builtins; the parsed tree is
bounded (size, exponents, literal sizes) before it is evaluated, and sympy's work for one topic runs
under a time limit (the computation is interrupted when it passes). Topic text shown in a scene is
embedded as a ``repr()`` string literal, never interpolated into code. LaTeX comes from
``sympy.latex`` or is written here.

Deterministic: no randomness, no clock; the same topic gives the same answer (a topic whose sympy work
exceeds the time limit falls back to the generic explainer). Imports sympy and numpy, never manim.
"""

from __future__ import annotations

import json
import math
import re
import threading
import unicodedata
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, TypeVar

import sympy

from jobs.explainer.mathcheck import parser_globals
from jobs.explainer.prompts import DECOMPOSE_FORMAT, REPAIR_FORMAT, SCRIPT_FORMAT

__all__ = ["DECOMPOSE_FORMAT", "SCRIPT_FORMAT", "decompose", "respond", "script"]


_T = TypeVar("_T")

# Limits on what the topic parser accepts and on sympy's work.
_MAX_EXPR_CHARS = 120
_MAX_TOPIC_CHARS = 300
_MAX_NODES = 80
_MAX_DEPTH = 14
_MAX_EXPONENT = 20
_MAX_LITERAL = 10**6
_SYMPY_SECONDS = 10.0
_MAX_RESULT_LATEX = 180
_SERIES_ORDER = 6

# Scene timing (seconds of animation per scene; the contract asks for 3 to 6).
_MIN_SECONDS = 4.0
_MAX_SECONDS = 5.6

_EXPR_CHARS = re.compile(r"^[0-9A-Za-z +\-*/^().,=]*$")
_ATTRIBUTE = re.compile(r"\.\s*[A-Za-z_]")
_SCI_NOTATION = re.compile(r"\d[eE][+-]?\d")
_IDENT = re.compile(r"[A-Za-z]+")
_FUNC_NAMES = frozenset(
    "sin cos tan exp log ln sqrt pi e E asin acos atan sinh cosh tanh abs oo".split()
)
_NICE_FUNCS: tuple[Any, ...] = (
    sympy.sin, sympy.cos, sympy.tan, sympy.cot, sympy.sec, sympy.csc, sympy.exp, sympy.log,
    sympy.asin, sympy.acos, sympy.atan, sympy.sinh, sympy.cosh, sympy.tanh, sympy.Abs,
)
_WINDOWS = ((-4.0, 4.0), (0.0, 4.0), (-4.0, 0.0), (0.0, 8.0), (-8.0, 0.0))


# ---------------------------------------------------------------------------------------------
# Small utilities
# ---------------------------------------------------------------------------------------------


class _Abandoned(BaseException):
    """Raised inside a sympy computation that ran past its time limit (not an ``Exception``, so
    sympy's own ``except Exception`` blocks do not swallow it)."""


def _bounded(fn: Callable[[], _T], seconds: float) -> _T | None:
    """Run ``fn`` in a daemon thread and give up after ``seconds``.

    The activity thread is not the main thread, so ``signal.alarm`` is not available. On timeout
    the worker thread is interrupted with an asynchronous exception, which stops pure-Python
    sympy work at its next bytecode (long single C calls are prevented by the input limits).

    Args:
        fn: The computation.
        seconds: Time limit.

    Returns:
        ``fn()``'s result, or None on timeout or error.
    """
    box: list[_T] = []

    def run() -> None:
        try:
            box.append(fn())
        except (Exception, _Abandoned):  # any sympy failure means "not supported"
            pass

    worker = threading.Thread(target=run, name="offline-sympy", daemon=True)
    worker.start()
    worker.join(seconds)
    if worker.is_alive() and worker.ident is not None:
        import ctypes

        ctypes.pythonapi.PyThreadState_SetAsyncExc(
            ctypes.c_ulong(worker.ident), ctypes.py_object(_Abandoned)
        )
        worker.join(5.0)
    return box[0] if box else None


def _clean_text(text: str) -> str:
    """Remove control and unassigned characters, collapse whitespace.

    Args:
        text: Any string.

    Returns:
        The cleaned string (may be empty).
    """
    kept = []
    for ch in text:
        category = unicodedata.category(ch)
        if category in ("Zs", "Zl", "Zp") or ch in "\t\n\r":
            kept.append(" ")
        elif not category.startswith("C"):
            kept.append(ch)
    return " ".join("".join(kept).split())


def _truncate(text: str, limit: int) -> str:
    """Cut ``text`` to ``limit`` characters, marking the cut with an ellipsis."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "\u2026"


def _wrap(text: str, width: int = 34, max_lines: int = 3) -> str:
    """Wrap text into at most ``max_lines`` lines of about ``width`` characters.

    Args:
        text: Cleaned text.
        width: Line width.
        max_lines: Maximum number of lines.

    Returns:
        The text with newlines inserted.
    """
    lines: list[str] = []
    current = ""
    for word in text.split(" "):
        while len(word) > width:
            if current:
                lines.append(current)
                current = ""
            lines.append(word[:width])
            word = word[width:]
        if not current:
            current = word
        elif len(current) + 1 + len(word) <= width:
            current += " " + word
        else:
            lines.append(current)
            current = word
    if current:
        lines.append(current)
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = _truncate(lines[-1] + " \u2026", width)
    return "\n".join(lines)


def _display(text: str, limit: int = 90) -> str:
    """Topic text as shown in a scene: cleaned, truncated, never empty."""
    shown = _truncate(_clean_text(text), limit)
    return shown if shown else "Untitled topic"


def _fl(value: float) -> str:
    """A float as a short Python literal."""
    rounded = round(float(value), 6)
    if rounded == 0:
        rounded = 0.0
    return repr(rounded)


def _plain(expr: Any) -> str:
    """An expression as plain text for titles: ``x^2 - 5x + 6``, ``e^x``, ``∞``."""
    text = str(sympy.sstr(expr)).replace("**", "^")
    text = re.sub(r"\bexp\(([A-Za-z0-9]+)\)", r"e^\1", text)
    text = re.sub(r"\bexp\(", "e^(", text)
    text = re.sub(r"(?<![\^\w.])(\d+)\*(?=[A-Za-z(])", r"\1", text)
    text = re.sub(r"\boo\b", "∞", text)
    return re.sub(r"(?<![A-Za-z_])E\b", "e", text)


def _latex(expr: Any) -> str:
    """An expression as LaTeX."""
    return str(sympy.latex(expr))


def _sstr(expr: Any) -> str:
    """An expression in sympy's Python syntax (what mathcheck parses)."""
    return str(sympy.sstr(expr))


def _at(expr: Any, var: sympy.Symbol, value: Any) -> str:
    """``expr`` with ``var`` replaced by ``value``, as unevaluated sympy-syntax text.

    Args:
        expr: The expression.
        var: Its variable.
        value: The value to put in.

    Returns:
        e.g. ``"(2)**2 - 5*(2) + 6"``.
    """
    return re.sub(rf"\b{re.escape(var.name)}\b", f"({_sstr(value)})", _sstr(expr))


def _nice(expr: Any, max_latex: int = _MAX_RESULT_LATEX) -> bool:
    """Whether a result is short and built from elementary functions only.

    Args:
        expr: A sympy result.
        max_latex: Longest acceptable LaTeX.

    Returns:
        True when it can be shown and claimed.
    """
    if not isinstance(expr, sympy.Expr):
        return False
    if expr.has(sympy.nan, sympy.zoo):
        return False
    for node in sympy.preorder_traversal(expr):
        if isinstance(node, sympy.Function) and not isinstance(node, _NICE_FUNCS):
            return False
        if isinstance(node, sympy.Piecewise | sympy.Integral | sympy.Limit | sympy.Derivative
                      | sympy.Subs | sympy.Order | sympy.AccumBounds | sympy.Sum):
            return False
    return len(_latex(expr)) <= max_latex


def _tidy(expr: sympy.Expr) -> sympy.Expr:
    """A shorter equivalent form when cheap to find (simplify only on small expressions)."""
    candidates = [expr]
    if sympy.count_ops(expr) <= 30:
        candidates.append(sympy.simplify(expr))
        candidates.append(sympy.factor(expr))
    return min(candidates, key=lambda e: (sympy.count_ops(e), len(_sstr(e))))


# ---------------------------------------------------------------------------------------------
# Parsing topic text into sympy (allowlisted)
# ---------------------------------------------------------------------------------------------


def _local_names() -> dict[str, Any]:
    """Names the topic parser knows: lowercase letters (except e) as symbols, functions."""
    names: dict[str, Any] = {ch: sympy.Symbol(ch) for ch in "abcdfghijklmnopqrstuvwxyz"}
    names.update(
        sin=sympy.sin, cos=sympy.cos, tan=sympy.tan, exp=sympy.exp, log=sympy.log, ln=sympy.log,
        sqrt=sympy.sqrt, asin=sympy.asin, acos=sympy.acos, atan=sympy.atan, sinh=sympy.sinh,
        cosh=sympy.cosh, tanh=sympy.tanh, abs=sympy.Abs, pi=sympy.pi, e=sympy.E, E=sympy.E,
        oo=sympy.oo,
    )
    return names


def _text_ok(text: str, *, allow_oo: bool = False) -> bool:
    """Whether expression text passes the allowlist.

    Args:
        text: Candidate expression text.
        allow_oo: Accept ``oo`` (integration bounds, limit points).

    Returns:
        True when the text may be given to the parser.
    """
    if not text or len(text) > _MAX_EXPR_CHARS or not _EXPR_CHARS.match(text):
        return False
    if "_" in text or _ATTRIBUTE.search(text) or _SCI_NOTATION.search(text):
        return False
    if "**" in text.replace(" ", "") and "^" in text:
        return False
    for name in _IDENT.findall(text):
        if name == "oo" and not allow_oo:
            return False
        if len(name) > 1 and name not in _FUNC_NAMES:
            return False
        if len(name) == 1 and name.isupper() and name != "E":
            return False
    return True


def _tree_ok(expr: Any) -> bool:
    """Whether an unevaluated parse tree is small enough to evaluate safely.

    Args:
        expr: The tree from ``parse_expr(..., evaluate=False)``.

    Returns:
        True when node count, depth, literals and exponents are within limits.
    """
    if not isinstance(expr, sympy.Basic):
        return False
    count = 0

    def walk(node: sympy.Basic, depth: int) -> bool:
        nonlocal count
        count += 1
        if count > _MAX_NODES or depth > _MAX_DEPTH:
            return False
        if isinstance(node, sympy.Integer) and abs(int(node)) > _MAX_LITERAL:
            return False
        if isinstance(node, sympy.Float) and not (abs(float(node)) <= _MAX_LITERAL):
            return False
        if isinstance(node, sympy.Pow) and node.exp.is_number:
            if not walk(node.exp, depth + 1):
                return False
            try:
                value = complex(sympy.N(node.exp, 15))
            except (TypeError, ValueError):
                return False
            if abs(value) > _MAX_EXPONENT or value.imag != 0:
                return False
            return walk(node.base, depth + 1)
        return all(walk(arg, depth + 1) for arg in node.args)

    return walk(expr, 0)


def _parse(text: str, *, allow_oo: bool = False) -> sympy.Expr | None:
    """Parse allowlisted expression text with sympy.

    ``^`` is a power, implicit multiplication is allowed (``2x``, ``x(x+1)``, ``sin x``), ``e`` is
    Euler's number and ``ln`` is ``log``. Floats become exact rationals.

    Args:
        text: Candidate expression text (no ``=`` or ``,``).
        allow_oo: Accept ``oo``.

    Returns:
        The expression, or None when the text is not accepted.
    """
    from sympy.parsing.sympy_parser import (
        convert_xor,
        implicit_multiplication_application,
        parse_expr,
        standard_transformations,
    )

    text = text.strip()
    if "=" in text or "," in text or not _text_ok(text, allow_oo=allow_oo):
        return None
    transformations = (*standard_transformations, implicit_multiplication_application, convert_xor)
    try:
        raw = parse_expr(text, local_dict=_local_names(), global_dict=parser_globals(),
                         transformations=transformations, evaluate=False)
        if not _tree_ok(raw):
            return None
        expr = parse_expr(text, local_dict=_local_names(), global_dict=parser_globals(),
                          transformations=transformations)
    except Exception:
        return None
    if not isinstance(expr, sympy.Expr) or expr.has(sympy.nan, sympy.zoo):
        return None
    if expr.has(sympy.Float):
        expr = sympy.nsimplify(expr, rational=True)
    return expr if isinstance(expr, sympy.Expr) else None


def _variable(expr: sympy.Expr) -> sympy.Symbol | None:
    """The expression's single variable (``x`` when it has none), None when it has several."""
    symbols = sorted(expr.free_symbols, key=lambda s: s.name)
    if len(symbols) > 1:
        return None
    return symbols[0] if symbols else sympy.Symbol("x")


_PREFIX = re.compile(r"^(?:[a-z]\s*\(\s*[a-z]\s*\)|y)\s*=\s*(?=[^=]+$)")
_TRAILERS = re.compile(
    r"\s+(?:using|with|by|via|step by step|for beginners|explained|please)\b.*$", re.IGNORECASE
)


def _strip_expr(text: str) -> str:
    """Drop ``f(x) =`` / ``y =`` prefixes, trailing prose and punctuation from expression text."""
    text = _TRAILERS.sub("", text.strip())
    text = text.strip().rstrip("?!.;:").strip()
    return _PREFIX.sub("", text)


# ---------------------------------------------------------------------------------------------
# Scene code builder
# ---------------------------------------------------------------------------------------------


@dataclass
class _Code:
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
class _Scene:
    """One planned scene with its code body and claims."""

    key: str
    title: str
    goal: str
    code: _Code
    claims: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        """Drop repeated claims, keeping their order."""
        object.__setattr__(self, "claims", tuple(dict.fromkeys(self.claims)))


@dataclass(frozen=True)
class _Content:
    """Everything the offline LLM says about one topic."""

    kind: str
    title: str
    scenes: tuple[_Scene, ...]


def _fit(c: _Code, name: str, width: float = 12.5, height: float = 0.0) -> None:
    """Scale mobject ``name`` down to fit a width (and optionally a height)."""
    c(f"{name}.scale_to_fit_width(min({name}.width, {width}))")
    if height:
        c(f"{name}.scale_to_fit_height(min({name}.height, {height}))")


def _heading(c: _Code, text: str) -> None:
    """Add a heading at the top of the frame and fade it in."""
    c(f"heading = Text({text!r}, font_size=34).to_edge(UP)")
    _fit(c, "heading")
    c.play("FadeIn(heading, shift=DOWN * 0.2)", 0.6)


def _title_scene(key: str, title: str, goal: str, heading: str, latex: str | None,
                 note: str | None, claims: Sequence[str] = ()) -> _Scene:
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
    c = _Code()
    c(f"title = Text({heading!r}, font_size=44)")
    _fit(c, "title")
    parts = ["title"]
    if latex:
        c(f"formula = MathTex({latex!r}, font_size=56)")
        _fit(c, "formula")
        parts.append("formula")
    if note:
        c(f"note = Text({note!r}, font_size=28, color=GRAY_B)")
        _fit(c, "note")
        parts.append("note")
    c(f"VGroup({', '.join(parts)}).arrange(DOWN, buff=0.6)")
    c.play("Write(title)", 1.2)
    if latex:
        c.play("Write(formula)", 1.5)
    if note:
        c.play("FadeIn(note, shift=UP * 0.3)", 0.8)
    c.wait(1.0)
    return _Scene(key, title, goal, c, tuple(claims))


def _steps_scene(key: str, title: str, goal: str, heading: str, lines: Sequence[str],
                 claims: Sequence[str] = (), note: str | None = None, box_last: bool = True,
                 transform: bool = False) -> _Scene:
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
    c = _Code()
    _heading(c, heading)
    names = []
    for i, latex in enumerate(lines[:4]):
        c(f"m{i} = MathTex({latex!r}, font_size=48)")
        names.append(f"m{i}")
    parts = list(names)
    if note:
        c(f"note = Text({note!r}, font_size=26, color=GRAY_B)")
        parts.append("note")
    c(f"body = VGroup({', '.join(parts)}).arrange(DOWN, buff=0.45)")
    _fit(c, "body", 12.5, 5.6)
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
    return _Scene(key, title, goal, c, tuple(claims))


# ---------------------------------------------------------------------------------------------
# Plots
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Plot:
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


def _numpy_code(expr: sympy.Expr, var: sympy.Symbol) -> str | None:
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


def _evaluate(func: Callable[[Any], Any], xs: Any) -> Any:
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


def _plot_plan(expr: sympy.Expr, var: sympy.Symbol, window: tuple[float, float], *,
               include_y: Sequence[float] = (), cover: tuple[float, float] | None = None
               ) -> _Plot | None:
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
    code = _numpy_code(expr, var)
    if code is None:
        return None
    func = sympy.lambdify(var, expr, modules="numpy")
    lo, hi = window
    x_step = _nice_step((hi - lo) / 8)
    x_min = math.floor(lo / x_step + 1e-9) * x_step
    x_max = math.ceil(hi / x_step - 1e-9) * x_step
    xs = np.linspace(x_min, x_max, 401)
    ys = _evaluate(func, xs)
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
    return _Plot((x_min, x_max, x_step), (y_min, y_max, y_step), tuple(segments), code, func)


def _segments_for(expr: sympy.Expr, var: sympy.Symbol, plot: _Plot) -> list[tuple[float, float]]:
    """Pieces of another function's graph that stay inside an existing plot's view."""
    import numpy as np

    func = sympy.lambdify(var, expr, modules="numpy")
    xs = np.linspace(plot.x_range[0], plot.x_range[1], 401)
    ys = _evaluate(func, xs)
    visible = np.isfinite(ys) & (ys >= plot.y_range[0]) & (ys <= plot.y_range[1])
    return _runs(visible, xs)


def _best_plot(expr: sympy.Expr, var: sympy.Symbol, windows: Sequence[tuple[float, float]],
               **kwargs: Any) -> _Plot | None:
    """The first window in which the function plots well (most of it finite)."""
    best: _Plot | None = None
    best_cover = 0.0
    for window in windows:
        plan = _plot_plan(expr, var, window, **kwargs)
        if plan is None:
            continue
        span = plan.x_range[1] - plan.x_range[0]
        cover = sum(b - a for a, b in plan.segments) / span
        if cover >= 0.6:
            return plan
        if cover > best_cover:
            best, best_cover = plan, cover
    return best


def _value(plot: _Plot, x: float) -> float | None:
    """The plotted function's value at ``x`` when finite and inside the view."""
    import numpy as np

    y = _evaluate(plot.func, np.array([float(x)]))[0]
    if not math.isfinite(y) or not plot.y_range[0] <= y <= plot.y_range[1]:
        return None
    return float(y)


def _in_segments(plot: _Plot, x: float, margin: float = 0.0) -> bool:
    """Whether ``x`` lies inside one of the plotted pieces (with a margin from their ends)."""
    return any(a + margin <= x <= b - margin for a, b in plot.segments)


@dataclass(frozen=True)
class _Tangent:
    x0: float
    y0: float
    slope: float


def _plot_scene(key: str, title: str, goal: str, heading: str, label: str, plot: _Plot, *,
                claims: Sequence[str] = (), area: tuple[float, float] | None = None,
                dots: Sequence[tuple[float, float]] = (),
                holes: Sequence[tuple[float, float]] = (), tangent: _Tangent | None = None,
                hline: float | None = None, morphs: Sequence[tuple[str, tuple[float, float]]] = (),
                second: tuple[str, Sequence[tuple[float, float]]] | None = None) -> _Scene:
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
    c = _Code(numpy=True)
    _heading(c, heading)
    c(f"label = MathTex({label!r}, font_size=36)")
    _fit(c, "label")
    c("label.next_to(heading, DOWN, buff=0.25)")
    (x0, x1, xs), (y0, y1, ys) = plot.x_range, plot.y_range
    c(f"axes = Axes(x_range=[{_fl(x0)}, {_fl(x1)}, {_fl(xs)}], "
      f"y_range=[{_fl(y0)}, {_fl(y1)}, {_fl(ys)}], x_length=10, y_length=4.6, tips=False, "
      "axis_config={'include_numbers': True, 'font_size': 22}, "
      f"x_axis_config={{'decimal_number_config': {{'num_decimal_places': {_decimals(xs)}}}}}, "
      f"y_axis_config={{'decimal_number_config': {{'num_decimal_places': {_decimals(ys)}}}}})"
      ".to_edge(DOWN, buff=0.35)")
    step = _fl((x1 - x0) / 200)
    segments = ", ".join(f"({_fl(a)}, {_fl(b)})" for a, b in plot.segments)
    c(f"graph = VGroup(*[axes.plot(lambda x: {plot.code}, x_range=[a, b, {step}], color=BLUE) "
      f"for a, b in [{segments}]])")
    c.play("Create(axes)", 1.0)
    c.play("Create(graph)", 1.2)
    c.play("Write(label)", 0.8)
    if area is not None:
        a, b = area
        c(f"piece = axes.plot(lambda x: {plot.code}, x_range=[{_fl(a)}, {_fl(b)}, {step}])")
        c(f"area = axes.get_area(piece, x_range=({_fl(a)}, {_fl(b)}), color=BLUE, opacity=0.4)")
        c.play("FadeIn(area)", 0.8)
    if second is not None:
        code, pieces = second
        parts = ", ".join(f"({_fl(a)}, {_fl(b)})" for a, b in pieces)
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
        c(f"dot = Dot(axes.c2p({_fl(t.x0)}, {_fl(t.y0)}), color=YELLOW)")
        c(f"tangent = axes.plot(lambda x: {_fl(t.slope)} * (x - {_fl(t.x0)}) + {_fl(t.y0)}, "
          f"x_range=[{_fl(lo)}, {_fl(hi)}], color=YELLOW)")
        c.play("FadeIn(dot, scale=0.5)", 0.4)
        c.play("Create(tangent)", 0.8)
    if hline is not None:
        c(f"asymptote = DashedLine(axes.c2p({_fl(x0)}, {_fl(hline)}), "
          f"axes.c2p({_fl(x1)}, {_fl(hline)}), color=YELLOW)")
        c.play("Create(asymptote)", 0.6)
    marks = [f"Dot(axes.c2p({_fl(px)}, {_fl(py)}), color=YELLOW)" for px, py in dots[:6]]
    marks += [f"Circle(radius=0.09, color=YELLOW).move_to(axes.c2p({_fl(px)}, {_fl(py)}))"
              for px, py in holes[:4]]
    if marks:
        c(f"marks = VGroup({', '.join(marks)})")
        c.play("FadeIn(marks, scale=0.5)", 0.6)
        c.play("Indicate(marks)", 0.6)
    for i, (code, (a, b)) in enumerate(morphs[:3]):
        c(f"p{i} = axes.plot(lambda x: {code}, x_range=[{_fl(a)}, {_fl(b)}, {step}], "
          "color=ORANGE)")
        if i == 0:
            c.play("Create(p0)", 0.8)
        else:
            c.play(f"ReplacementTransform(p{i - 1}, p{i})", 0.7)
    c.wait(0.6)
    return _Scene(key, title, goal, c, tuple(claims))


# ---------------------------------------------------------------------------------------------
# Expression topics
# ---------------------------------------------------------------------------------------------


def _derivative_rule(f: sympy.Expr, x: sympy.Symbol) -> tuple[str, str]:
    """Name and LaTeX statement of the main rule for differentiating ``f``."""
    v = _latex(x)
    d = rf"\frac{{d}}{{d{v}}}"
    if f.is_Add:
        return "sum rule", rf"{d}\left(u + w\right) = u' + w'"
    if f.is_Mul:
        factors = [a for a in f.args if a.has(x)]
        if any(a.is_Pow and a.exp.is_negative for a in factors) and len(factors) > 1:
            return "quotient rule", r"\left(\frac{u}{w}\right)' = \frac{u'w - uw'}{w^2}"
        if len(factors) > 1:
            return "product rule", r"(u\,w)' = u'\,w + u\,w'"
        if factors:
            f = factors[0]
        else:
            return "constant rule", rf"{d}\, c = 0"
    if f.is_Pow and f.base.has(x) and f.exp.has(x):
        return "logarithmic derivative", (
            r"u^{w} = e^{w \ln u}:\quad "
            r"(u^{w})' = u^{w} \left(w' \ln u + \frac{w\,u'}{u}\right)"
        )
    if f.is_Pow and f.base == x and not f.exp.has(x):
        return "power rule", rf"{d}\, {v}^n = n\,{v}^{{n-1}}"
    if f.is_Pow and f.exp.has(x) and not f.base.has(x):
        return "exponential rule", rf"{d}\, a^{{{v}}} = a^{{{v}}} \ln a"
    if isinstance(f, sympy.Function) and f.args and f.args[0] != x:
        return "chain rule", rf"{d}\, u(w({v})) = u'(w({v}))\, w'({v})"
    if f.is_Pow and f.base != x:
        return "chain rule", rf"{d}\, u(w({v})) = u'(w({v}))\, w'({v})"
    if isinstance(f, sympy.Function):
        name = type(f).__name__
        known = {
            "sin": rf"{d} \sin {v} = \cos {v}",
            "cos": rf"{d} \cos {v} = -\sin {v}",
            "tan": rf"{d} \tan {v} = \frac{{1}}{{\cos^2 {v}}}",
            "exp": rf"{d}\, e^{{{v}}} = e^{{{v}}}",
            "log": rf"{d} \ln {v} = \frac{{1}}{{{v}}}",
        }
        if name in known:
            return "standard derivative", known[name]
    return "definition", rf"f'({v}) = \lim_{{h \to 0}} \frac{{f({v} + h) - f({v})}}{{h}}"


def _tangent_point(f: sympy.Expr, fp: sympy.Expr, x: sympy.Symbol, plot: _Plot
                   ) -> tuple[sympy.Rational, _Tangent, sympy.Expr] | None:
    """A point where a tangent line can be drawn: inside the plot, finite value and slope."""
    span = plot.x_range[1] - plot.x_range[0]
    for candidate in (1, 2, -1, sympy.Rational(1, 2), 3, -2, sympy.Rational(3, 2), 0):
        x0 = sympy.Rational(candidate)
        if not _in_segments(plot, float(x0), 0.05 * span):
            continue
        y0 = _value(plot, float(x0))
        slope = fp.subs(x, x0)
        if y0 is None or not slope.is_real or not slope.is_finite or not _nice(slope, 60):
            continue
        try:
            m = float(slope)
        except (TypeError, ValueError):
            continue
        if abs(m) > 1e6:
            continue
        return x0, _Tangent(float(x0), y0, m), sympy.nsimplify(slope) if slope.is_Float else slope
    return None


def _derivative_content(f: sympy.Expr) -> _Content | None:
    """The derivative of ``f``: graph with a tangent, the rule, the result."""
    x = _variable(f)
    if x is None:
        return None
    fp = _tidy(sympy.diff(f, x))
    if not (_nice(f) and _nice(fp)):
        return None
    v, fl, fpl, plain = _latex(x), _latex(f), _latex(fp), _plain(f)
    claim = f"diff({_sstr(f)}, {x}) == {_sstr(fp)}"
    rule, rule_tex = _derivative_rule(f, x)
    scenes = [_title_scene(
        "Intro", f"The function {plain}", f"Meet f({x}) = {plain} and the question: how fast does "
        "it change?", "The derivative", f"f({v}) = {fl}", "How fast does f change?")]
    plot = _best_plot(f, x, _WINDOWS)
    if plot is not None:
        point = _tangent_point(f, fp, x, plot)
        if point is not None:
            x0, tangent, slope = point
            scenes.append(_plot_scene(
                "Tangent", "Slope of a tangent line",
                f"The derivative at {x} = {x0} is the slope of the tangent line there.",
                "The derivative is a slope", rf"f'({_latex(x0)}) = {_latex(slope)}", plot,
                tangent=tangent, claims=[f"{_at(fp, x, x0)} == {_sstr(slope)}"]))
    scenes.append(_steps_scene(
        "Rule", f"Apply the {rule}", f"Differentiate {plain} with the {rule}.",
        f"Apply the {rule}", [rule_tex, rf"\frac{{d}}{{d{v}}}\left({fl}\right) = {fpl}"],
        claims=[claim]))
    scenes.append(_steps_scene(
        "Result", "The result", f"f'({x}) = {_plain(fp)} gives the slope at every point.",
        "Result", [rf"f'({v}) = {fpl}"], claims=[claim],
        note="the slope of the graph at every point"))
    return _Content("derivative", f"The derivative of {plain}", tuple(scenes))


def _integral_content(f: sympy.Expr, a: sympy.Expr | None, b: sympy.Expr | None
                      ) -> _Content | None:
    """An antiderivative or a definite integral of ``f``, with the area picture."""
    x = _variable(f)
    if x is None or not _nice(f):
        return None
    if not _cheap_to_integrate(f, x):
        return _numeric_integral_content(f, x, a, b)
    v, fl, plain = _latex(x), _latex(f), _plain(f)
    antiderivative = sympy.integrate(f, x)
    F = _tidy(antiderivative) if _nice(antiderivative, 400) else None
    if F is not None and not _nice(F):
        F = None
    if a is None or b is None:
        if F is None:
            return _numeric_integral_content(f, x, a, b)
        Fl = _latex(F)
        scenes = [_title_scene(
            "Intro", f"Antiderivative of {plain}", "We look for a function whose derivative is "
            f"{plain}.", "Finding an antiderivative", rf"\int {fl}\, d{v}",
            f"Which function has derivative {_truncate(plain, 40)}?")]
        plot = _best_plot(f, x, _WINDOWS)
        if plot is not None:
            code = _numpy_code(F, x)
            pieces = _segments_for(F, x, plot) if code else []
            second = (code, pieces) if code and pieces else None
            scenes.append(_plot_scene(
                "Graph", "The function and its antiderivative",
                f"Blue: f = {plain}; green: an antiderivative F.", "f (blue) and F (green)",
                rf"f({v}) = {fl}", plot, second=second))
        scenes.append(_steps_scene(
            "Compute", "Compute the antiderivative", f"The antiderivative of {plain}.",
            "The antiderivative", [rf"\int {fl}\, d{v} = {Fl} + C"],
            claims=[f"integrate({_sstr(f)}, {x}) == {_sstr(F)}"]))
        scenes.append(_steps_scene(
            "Check", "Check by differentiating", "Differentiating F gives back f.",
            "Check: differentiate", [rf"\frac{{d}}{{d{v}}}\left({Fl}\right) = {fl}"],
            claims=[f"diff({_sstr(F)}, {x}) == {_sstr(f)}"]))
        return _Content("integral", f"The integral of {plain}", tuple(scenes))
    value = sympy.integrate(f, (x, a, b))
    if not _nice(value) or value.has(x) or not (value.is_finite or value in (sympy.oo, -sympy.oo)):
        return _numeric_integral_content(f, x, a, b)
    value = _tidy(value)
    bounds = rf"\int_{{{_latex(a)}}}^{{{_latex(b)}}} {fl}\, d{v}"
    claim = f"integrate({_sstr(f)}, ({x}, {_sstr(a)}, {_sstr(b)})) == {_sstr(value)}"
    title = f"The integral of {plain} from {_plain(a)} to {_plain(b)}"
    scenes = [_title_scene(
        "Intro", "The question", f"The definite integral of {plain} from {_plain(a)} to "
        f"{_plain(b)} is a signed area.", "A definite integral", bounds,
        "the signed area under the curve")]
    lo = float(a) if a.is_finite else None
    hi = float(b) if b.is_finite else None
    if lo is not None or hi is not None:
        left = lo if lo is not None else (hi or 0.0) - 8
        right = hi if hi is not None else left + 8
        if left > right:
            left, right = right, left
        pad = max(0.5, 0.25 * (right - left))
        window = (left - pad, right + pad)
        plot = _plot_plan(f, x, window, cover=(left, right))
        if plot is not None:
            scenes.append(_plot_scene(
                "Area", "The area under the curve",
                f"Shade the region under {plain} between {_plain(a)} and {_plain(b)}.",
                "The area under the curve", bounds, plot, area=_area_interval(plot, left, right)))
    steps = [rf"{bounds} = {_latex(value)}"]
    claims = [claim]
    ends = _ends(F, x, a, b) if F is not None and _ends_match(F, x, a, b, value) else None
    if F is not None and ends is not None:
        steps = [rf"F({v}) = {_latex(F)}", rf"{bounds} = {ends[0]} = {_latex(value)}"]
        claims = [f"diff({_sstr(F)}, {x}) == {_sstr(f)}", *ends[1], claim]
    scenes.append(_steps_scene(
        "Compute", "Compute with an antiderivative",
        "Evaluate an antiderivative at the bounds and subtract.", "Evaluate", steps,
        claims=claims, box_last=False))
    if value.is_Integer:
        approx = None
    else:
        approx = f"\u2248 {float(value):.6g}" if value.is_finite else "the integral diverges"
    scenes.append(_steps_scene(
        "Result", "The value", f"The integral equals {_plain(value)}.", "Result",
        [rf"{bounds} = {_latex(value)}"], claims=[claim], note=approx))
    return _Content("integral", title, tuple(scenes))


def _numeric_integral_content(f: sympy.Expr, x: sympy.Symbol, a: sympy.Expr | None,
                              b: sympy.Expr | None) -> _Content | None:
    """An integral without a short closed form: the graph (or area) and a numerical value."""
    v, fl, plain = _latex(x), _latex(f), _plain(f)
    lo, hi = (a, b) if a is not None and b is not None else (sympy.Integer(0), sympy.Integer(1))
    if not (lo.is_finite and hi.is_finite):
        return None
    estimate = complex(sympy.Integral(f, (x, lo, hi)).evalf(15))
    if abs(estimate.imag) > 1e-9 or not math.isfinite(estimate.real):
        return None
    bounds = rf"\int_{{{_latex(lo)}}}^{{{_latex(hi)}}} {fl}\, d{v}"
    definite = a is not None
    heading = "A definite integral" if definite else "Finding an antiderivative"
    formula = bounds if definite else rf"\int {fl}\, d{v}"
    scenes = [_title_scene("Intro", "The question", f"Integrate {plain}.", heading, formula,
                           "the signed area under the curve" if definite else
                           f"Which function has derivative {_truncate(plain, 40)}?")]
    left, right = float(lo), float(hi)
    pad = max(0.5, 0.25 * abs(right - left))
    plot = _plot_plan(f, x, (min(left, right) - pad, max(left, right) + pad),
                      cover=(min(left, right), max(left, right)))
    if plot is not None:
        area = (min(left, right), max(left, right))
        scenes.append(_plot_scene(
            "Area", "The area under the curve", f"The area under {plain} between "
            f"{_plain(lo)} and {_plain(hi)}.", "The area under the curve", bounds, plot,
            area=_area_interval(plot, *area)))
    scenes.append(_steps_scene(
        "Numeric", "A numerical value", "No short closed form: compute the area numerically.",
        "No short formula: integrate numerically", [rf"{bounds} \approx {estimate.real:.6g}"],
        note="sympy finds no short closed form; the value is numerical"))
    title = (f"The integral of {plain} from {_plain(lo)} to {_plain(hi)}" if definite
             else f"The integral of {plain}")
    return _Content("integral", title, tuple(scenes))


def _cheap_to_integrate(f: sympy.Expr, x: sympy.Symbol) -> bool:
    """Whether sympy integrates ``f`` quickly: small, low powers, rational parts that factor.

    Products of high powers of trigonometric functions and rational functions with irreducible
    cubic denominators can keep sympy busy for many seconds; such topics get other content.
    """
    if sympy.count_ops(f) > 20:
        return False
    for node in sympy.preorder_traversal(f):
        if isinstance(node, sympy.Pow) and node.exp.is_Integer and abs(int(node.exp)) > 8:
            return False
    if f.is_rational_function(x):
        denominator = sympy.denom(sympy.together(f))
        _, factors = sympy.factor_list(denominator, x)
        if any(sympy.degree(factor, x) > 2 for factor, _ in factors):
            return False
    return True


def _ends(F: sympy.Expr, x: sympy.Symbol, a: sympy.Expr, b: sympy.Expr
          ) -> tuple[str, list[str]] | None:
    """``F(b) - F(a)`` as LaTeX (limits for infinite bounds) with claims for the limits.

    Returns:
        ``(latex, claims)``, or None when the ends are not finite and nice.
    """
    parts: list[str] = []
    claims: list[str] = []
    for bound in (b, a):
        if bound.is_finite:
            parts.append(rf"F({_latex(bound)})")
            continue
        value = sympy.limit(F, x, bound)
        if not (_nice(value, 60) and value.is_finite):
            return None
        parts.append(rf"\lim_{{{_latex(x)} \to {_latex(bound)}}} F({_latex(x)})")
        claims.append(f"limit({_sstr(F)}, {x}, {_sstr(bound)}) == {_sstr(value)}")
    return f"{parts[0]} - {parts[1]}", claims


def _ends_match(F: sympy.Expr, x: sympy.Symbol, a: sympy.Expr, b: sympy.Expr,
                value: sympy.Expr) -> bool:
    """Whether ``F(b) - F(a)`` (limits at infinite bounds) equals the integral's value.

    False for integrals over a singularity, where an antiderivative's difference is wrong.
    """
    def end(bound: sympy.Expr) -> sympy.Expr:
        return F.subs(x, bound) if bound.is_finite else sympy.limit(F, x, bound)

    difference = end(b) - end(a)
    return bool(difference.is_finite and sympy.simplify(difference - value) == 0)


def _area_interval(plot: _Plot, a: float, b: float) -> tuple[float, float] | None:
    """[a, b] nudged inwards (a removable gap at an end, like sin(x)/x at 0, is fine) when the
    function is finite and in view on all of it, so the area under it can be shaded; else None.
    """
    import numpy as np

    nudge = 1e-4 * (b - a)
    a, b = a + nudge, b - nudge
    ys = _evaluate(plot.func, np.linspace(a, b, 201))
    ok = bool(np.all(np.isfinite(ys)) and np.all(ys >= plot.y_range[0])
              and np.all(ys <= plot.y_range[1]) and plot.y_range[0] <= 0 <= plot.y_range[1])
    return (a, b) if ok and b > a else None


def _limit_content(f: sympy.Expr, x: sympy.Symbol, point: sympy.Expr, side: str
                   ) -> _Content | None:
    """The limit of ``f`` as ``x`` approaches ``point`` (side ``+``, ``-`` or both)."""
    if f.free_symbols - {x} or not _nice(f):
        return None
    v, fl, plain = _latex(x), _latex(f), _plain(f)
    right = sympy.limit(f, x, point, "+") if point != -sympy.oo and side != "-" else None
    left = sympy.limit(f, x, point, "-") if point != sympy.oo and side != "+" else None
    oscillates = any(isinstance(w, sympy.Expr) and w.has(sympy.AccumBounds) for w in (left, right))

    def ok(w: Any) -> bool:
        return isinstance(w, sympy.Expr) and _nice(w, 80) and not w.has(x)

    if not oscillates and not all(ok(w) for w in (left, right) if w is not None):
        return None
    arrow = {"+": "^{+}", "-": "^{-}"}.get(side, "")
    lim = rf"\lim_{{{v} \to {_latex(point)}{arrow}}} {fl}"
    # mathcheck's limit() is one-sided from the right by default, so a left limit is claimed as
    # the right limit of f(point - x) at 0.
    claims: list[str] = []
    result: sympy.Expr | None = None
    if point == sympy.oo or point == -sympy.oo:
        value = right if point == sympy.oo else left
        if ok(value):
            result = value
            claims.append(f"limit({_sstr(f)}, {x}, {_sstr(point)}) == {_sstr(value)}")
    else:
        if ok(right):
            claims.append(f"limit({_sstr(f)}, {x}, {_sstr(point)}) == {_sstr(right)}")
        if ok(left):
            claims.append(f"limit({_sstr(f.subs(x, point - x))}, {x}, 0) == {_sstr(left)}")
        if side == "+":
            result = right if ok(right) else None
        elif side == "-":
            result = left if ok(left) else None
        elif ok(left) and ok(right) and left == right:
            result = right
    title = f"The limit of {plain} as {x} → {_plain(point)}{side}"
    scenes = [_title_scene(
        "Intro", "The question", f"What value does {plain} approach as {x} approaches "
        f"{_plain(point)}?", "A limit", lim, f"What does f approach as {x} \u2192 "
        f"{_plain(point)}{side}?")]
    if point.is_finite:
        p = float(point)
        window = (p - 3, p + 3)
        include = [float(result)] if result is not None and result.is_finite else []
        plot = _plot_plan(f, x, window, include_y=include)
        if plot is not None:
            holes = []
            if result is not None and result.is_finite:
                holes.append((p, float(result)))
            scenes.append(_plot_scene(
                "Graph", "Zoom in on the graph", f"Follow the graph of {plain} towards "
                f"{x} = {_plain(point)}.", "Follow the graph", rf"f({v}) = {fl}", plot,
                holes=holes))
    else:
        window = (0.0, 12.0) if point == sympy.oo else (-12.0, 0.0)
        limit_value = result if result is not None else None
        include = ([float(limit_value)] if limit_value is not None and limit_value.is_finite
                   else [])
        plot = _plot_plan(f, x, window, include_y=include)
        if plot is not None:
            hline = float(limit_value) if limit_value is not None and limit_value.is_finite \
                else None
            scenes.append(_plot_scene(
                "Graph", "Far along the graph", f"Follow {plain} as {x} grows.",
                "Follow the graph", rf"f({v}) = {fl}", plot, hline=hline))
    table = _limit_table(f, x, point, side)
    if table:
        scenes.append(_table_scene(
            "Table", "Numerical evidence", f"Values of {plain} close to {_plain(point)}.",
            "Values close to the point", table))
    if result is not None:
        lines = [rf"{lim} = {_latex(result)}"]
        note = None
    elif oscillates:
        lines = [rf"{lim}\ \text{{does not exist}}"]
        note = "f oscillates: it approaches no single value"
    else:
        lines = [
            rf"\lim_{{{v} \to {_latex(point)}^{{-}}}} {fl} = {_latex(left)}",
            rf"\lim_{{{v} \to {_latex(point)}^{{+}}}} {fl} = {_latex(right)}",
        ]
        note = "the one-sided limits differ: the limit does not exist"
    scenes.append(_steps_scene("Result", "The limit", "State the limit.", "Result", lines,
                               claims=claims, note=note))
    return _Content("limit", title, tuple(scenes[:4]))


def _limit_table(f: sympy.Expr, x: sympy.Symbol, point: sympy.Expr, side: str
                 ) -> list[str]:
    """Rows ``x = ...   f(x) = ...`` approaching the point (exact evaluation, 6 digits)."""
    if point == sympy.oo:
        xs = [sympy.Integer(10), sympy.Integer(100), sympy.Integer(1000)]
    elif point == -sympy.oo:
        xs = [sympy.Integer(-10), sympy.Integer(-100), sympy.Integer(-1000)]
    else:
        steps = [sympy.Rational(1, 10), sympy.Rational(1, 100), sympy.Rational(1, 1000)]
        xs = []
        if side in ("", "-"):
            xs += [point - h for h in steps]
        if side in ("", "+"):
            xs += [point + h for h in steps]
    rows = []
    for value in xs:
        try:
            y = complex(f.evalf(20, subs={x: value}))
        except (TypeError, ValueError):
            continue
        if abs(y.imag) > 1e-12 or not math.isfinite(y.real):
            continue
        rows.append(f"{x} = {float(value):.6g}    f({x}) = {y.real:.6g}")
    return rows


def _table_scene(key: str, title: str, goal: str, heading: str, rows: Sequence[str]) -> _Scene:
    """A column of text rows faded in one after another."""
    c = _Code()
    _heading(c, heading)
    items = ", ".join(f"Text({row!r}, font_size=30)" for row in rows[:6])
    c(f"rows = VGroup({items}).arrange(DOWN, aligned_edge=LEFT, buff=0.3)")
    _fit(c, "rows", 12.5, 5.4)
    c("rows.next_to(heading, DOWN, buff=0.6)")
    c.play("LaggedStart(*[FadeIn(r, shift=RIGHT * 0.3) for r in rows], lag_ratio=0.3)", 2.4)
    c.wait(1.0)
    return _Scene(key, title, goal, c)


def _series_content(f: sympy.Expr, point: sympy.Expr, max_order: int) -> _Content | None:
    """The Taylor series of ``f`` about ``point`` up to ``O((x - point)**order)``, with
    ``order <= max_order`` as large as keeps the polynomial short."""
    x = _variable(f)
    if x is None or not _nice(f) or not point.is_finite or not f.has(x):
        return None
    u = sympy.Symbol("w" if x.name == "u" else "u")
    shift_s, shift_tex = _sstr(x - point), _latex(x - point)
    # Lower the order until the polynomial is short enough to show (expansions about points other
    # than 0 often have long coefficients).
    for order in range(max_order, 2, -1):
        expansion = sympy.series(f, x, point, order)
        poly = expansion.removeO()
        if not poly.is_polynomial(x) or poly.has(sympy.zoo, sympy.nan):
            return None
        # Write the polynomial in powers of (x - point), lowest degree first.
        in_u = sympy.expand(poly.subs(x, u + point))
        terms_tex = str(sympy.latex(in_u, order="rev-lex",
                                    symbol_names={u: rf"\left({shift_tex}\right)"}))
        if _nice(in_u, 10_000) and len(terms_tex) <= 200:
            break
    else:
        return None
    v, fl, plain = _latex(x), _latex(f), _plain(f)
    name = "Maclaurin" if point == 0 else "Taylor"
    exact = expansion.getO() is None  # a polynomial equals its own Taylor series
    terms_s = re.sub(rf"\b{u.name}\b", f"({shift_s})", str(sympy.sstr(in_u, order="rev-lex")))
    if point == 0:
        terms_s, terms_tex = _sstr(poly), _latex(poly)
    if exact:
        series_s, series_tex = terms_s, terms_tex
    elif point == 0:
        series_s, series_tex = _sstr(expansion), _latex(expansion)
    else:
        series_s = f"{terms_s} + O(({shift_s})**{order}, ({x}, {_sstr(point)}))"
        series_tex = rf"{terms_tex} + O\left(\left({shift_tex}\right)^{{{order}}}\right)"
    claim = f"series({_sstr(f)}, {x}, {_sstr(point)}, {order}) == {series_s}"
    about = f"about {x} = {_plain(point)}"
    scenes = [_title_scene(
        "Intro", "The idea", f"Approximate {plain} near {x} = {_plain(point)} by polynomials.",
        f"The {name} series", rf"f({v}) = {fl}", f"polynomials that hug f {about}")]
    a = _latex(point)
    shift = v if point == 0 else rf"\left({shift_tex}\right)"
    formula = rf"f({v}) = \sum_{{k=0}}^{{\infty}} \frac{{f^{{(k)}}({a})}}{{k!}}\, {shift}^k"
    coefficients = []
    for k in range(3):
        value = sympy.diff(f, x, k).subs(x, point)
        if not _nice(value, 60):
            break
        primes = "'" * k
        derivative = f"diff({_sstr(f)}, {x}, {k})" if k else _sstr(f)
        coefficients.append((rf"f{primes}({a}) = {_latex(value)}",
                             f"limit({derivative}, {x}, {_sstr(point)}) == {_sstr(value)}"))
    if coefficients:
        scenes.append(_steps_scene(
            "Formula", "The Taylor formula", "Coefficients come from derivatives at the point.",
            "Coefficients from derivatives",
            [formula, r",\quad ".join(t for t, _ in coefficients)],
            claims=[c for _, c in coefficients], box_last=False))
    p = float(point)
    plot = _plot_plan(f, x, (p - 4, p + 4))
    if plot is not None:
        partial: list[sympy.Expr] = []
        for degree in range(order):
            term_sum = sum((t for t in sympy.Add.make_args(in_u)
                            if sympy.degree(t, u) <= degree), sympy.Integer(0))
            if not partial or sympy.expand(term_sum - partial[-1]) != 0:
                partial.append(term_sum)
        partial = [sympy.expand(q.subs(u, x - point)) for q in partial]
        morphs: list[tuple[str, tuple[float, float]]] = []
        for approx in partial[-3:]:
            code = _numpy_code(approx, x)
            pieces = [s for s in _segments_for(approx, x, plot) if s[0] <= p <= s[1]]
            if code and pieces:
                morphs.append((code, pieces[0]))
        scenes.append(_plot_scene(
            "Graph", "Better and better approximations",
            "Polynomials of higher degree follow f further from the point.",
            "Taylor polynomials (orange) approach f", rf"f({v}) = {fl}", plot, morphs=morphs))
    scenes.append(_steps_scene(
        "Result", "The series", f"The {name} series of {plain} {about}.", "Result",
        [rf"{fl} = {series_tex}"], claims=[claim]))
    where = "" if point == 0 else f" about {x} = {_plain(point)}"
    return _Content("series", f"The {name} series of {plain}{where}", tuple(scenes[:4]))


def _solve_content(lhs: sympy.Expr, rhs: sympy.Expr) -> _Content | None:
    """Solve ``lhs = rhs`` for its variable: method, graph with roots, check."""
    equation = lhs - rhs
    x = _variable(equation)
    if x is None or not _nice(lhs) or not _nice(rhs) or not equation.has(x):
        return None
    eq_tex = rf"{_latex(lhs)} = {_latex(rhs)}"
    eq_plain = f"{_plain(lhs)} = {_plain(rhs)}"
    exact: list[sympy.Expr] = []
    approx: list[float] = []
    method: list[str] = []
    method_claims: list[str] = []
    method_title = "Solve"
    periodic = equation.has(sympy.sin, sympy.cos, sympy.tan)
    if equation.is_polynomial(x):
        poly = sympy.Poly(sympy.expand(equation), x)
        if poly.degree() > 6 or poly.degree() < 1:
            return None
        found = sympy.roots(poly, cubics=False, quartics=False)
        exact = sorted(found, key=sympy.default_sort_key)
        if sum(found.values()) < poly.degree():
            approx = sorted(float(sympy.re(r)) for r in poly.nroots(n=8)
                            if abs(float(sympy.im(r))) < 1e-10)
            approx = [r for r in approx if all(abs(r - complex(e)) > 1e-6 for e in exact)]
        if poly.degree() == 1:
            a1, b1 = poly.all_coeffs()
            method_title = "Isolate the variable"
            method = [eq_tex, rf"{_latex(a1 * x)} = {_latex(-b1)}", rf"{_latex(x)} = {_latex(-b1 / a1)}"]
            method_claims = [f"({_sstr(-b1)})/({_sstr(a1)}) == {_sstr(-b1 / a1)}"]
        elif poly.degree() == 2:
            a2, b2, c2 = poly.all_coeffs()
            disc = b2**2 - 4 * a2 * c2
            method_title = "Use the quadratic formula"
            method = [
                rf"a = {_latex(a2)},\; b = {_latex(b2)},\; c = {_latex(c2)}",
                rf"b^2 - 4ac = {_latex(disc)}",
                rf"{_latex(x)} = \frac{{{_latex(-b2)} \pm \sqrt{{{_latex(disc)}}}}}"
                rf"{{{_latex(2 * a2)}}}",
            ]
            method_claims = [f"({_sstr(b2)})**2 - 4*({_sstr(a2)})*({_sstr(c2)}) == {_sstr(disc)}"]
        else:
            factored = sympy.factor(sympy.expand(equation))
            method_title = "Factor"
            method = [rf"{_latex(sympy.expand(equation))} = {_latex(factored)}"]
            method_claims = [f"factor({_sstr(sympy.expand(equation))}) == {_sstr(factored)}"]
    else:
        try:
            solutions = sympy.solve(sympy.Eq(lhs, rhs), x)
        except (NotImplementedError, ValueError, TypeError):
            solutions = []
        exact = sorted((s for s in solutions if isinstance(s, sympy.Expr)),
                       key=sympy.default_sort_key)[:4]
        exact = [r for r in exact if _nice(r, 80)]
        if not exact:
            approx = _numeric_roots(equation, x, (-6.0, 6.0))
    exact = [r for r in exact if _nice(r, 80)][:4]
    if not exact and not approx:
        return None
    checks = [f"{_at(lhs, x, r)} == {_at(rhs, x, r)}" for r in exact]
    scenes = [_title_scene(
        "Intro", "The equation", f"Find every {x} with {eq_plain}.", "Solve the equation",
        eq_tex, "Which values make both sides equal?")]
    if method:
        scenes.append(_steps_scene("Method", method_title, f"{method_title} for {eq_plain}.",
                                   method_title, method, claims=method_claims))
    real_roots = [float(r) for r in exact if r.is_real] + approx
    lo, hi = -4.0, 4.0
    if real_roots:
        spread = max(real_roots) - min(real_roots)
        margin = max(1.0, 0.5 * spread)
        lo, hi = min(real_roots) - margin, max(real_roots) + margin
    if hi - lo <= 40:
        plot = _plot_plan(equation, x, (lo, hi), include_y=[0.0])
        if plot is not None:
            dots = [(r, 0.0) for r in real_roots if _in_segments(plot, r)]
            scenes.append(_plot_scene(
                "Graph", "Roots on the graph",
                f"The solutions are where y = {_truncate(_plain(equation), 40)} crosses zero.",
                "Where the graph crosses zero", rf"y = {_latex(equation)}", plot, dots=dots))
    answers = [rf"{_latex(x)} = {_latex(r)}" for r in exact]
    answers += [rf"{_latex(x)} \approx {r:.6g}" for r in approx[:3]]
    note = "some solutions (the equation is periodic)" if periodic else None
    scenes.append(_steps_scene(
        "Result", "The solutions", "State the solutions and check them.", "Solutions",
        [r",\quad ".join(answers)], claims=checks, note=note))
    return _Content("solve", f"Solving {eq_plain}", tuple(scenes[:4]))


def _numeric_roots(expr: sympy.Expr, x: sympy.Symbol, window: tuple[float, float]
                   ) -> list[float]:
    """Real roots of ``expr`` in a window: sign changes on a grid, refined by bisection."""
    import numpy as np

    func = sympy.lambdify(x, expr, modules="numpy")
    xs = np.linspace(window[0], window[1], 1201)
    ys = _evaluate(func, xs)
    roots: list[float] = []
    for i in range(len(xs) - 1):
        y0, y1 = ys[i], ys[i + 1]
        if not (math.isfinite(y0) and math.isfinite(y1)) or y0 * y1 > 0 or y0 == y1:
            continue
        if y0 == 0:
            candidate = float(xs[i])
        else:
            try:
                candidate = float(sympy.nsolve(expr, x, (float(xs[i]), float(xs[i + 1])),
                                               solver="bisect"))
            except (ValueError, TypeError, ZeroDivisionError):
                continue
        value = complex(expr.evalf(30, subs={x: sympy.Float(candidate, 30)}))
        if abs(value) < 1e-8 and all(abs(candidate - r) > 1e-6 for r in roots):
            roots.append(candidate)
        if len(roots) >= 6:
            break
    return roots


def _factor_content(f: sympy.Expr) -> _Content | None:
    """Factor a polynomial and check by expanding."""
    symbols = sorted(f.free_symbols, key=lambda s: s.name)
    if not symbols or len(symbols) > 3 or not f.is_polynomial(*symbols) or not _nice(f):
        return None
    expanded = sympy.expand(f)
    factored = sympy.factor(expanded)
    if not _nice(factored):
        return None
    plain = _plain(f)
    scenes = [_title_scene(
        "Intro", "The expression", f"Write {plain} as a product of simpler factors.",
        "Factoring", _latex(f), "Write it as a product")]
    if len(symbols) == 1:
        x = symbols[0]
        found = sympy.roots(sympy.Poly(expanded, x), cubics=False, quartics=False)
        roots = [r for r in sorted(found, key=sympy.default_sort_key) if r.is_Rational][:3]
        if roots:
            lines = [rf"{_latex(x)} = {_latex(r)}:\quad {_latex(expanded)} = 0" for r in roots]
            scenes.append(_steps_scene(
                "Roots", "Find the roots", "Each root r gives a factor (x - r).",
                "Each root gives a factor", lines,
                claims=[f"{_at(expanded, x, r)} == 0" for r in roots], box_last=False))
    scenes.append(_steps_scene(
        "Factor", "The factored form", f"{plain} factors as {_plain(factored)}.", "Factored form",
        [_latex(expanded), _latex(factored)], transform=True,
        claims=[f"factor({_sstr(expanded)}) == {_sstr(factored)}"]))
    scenes.append(_steps_scene(
        "Check", "Check by expanding", "Multiplying the factors gives back the expression.",
        "Check: expand", [rf"{_latex(factored)} = {_latex(expanded)}"],
        claims=[f"expand({_sstr(factored)}) == {_sstr(expanded)}"]))
    return _Content("factor", f"Factoring {plain}", tuple(scenes[:4]))


def _expand_content(f: sympy.Expr) -> _Content | None:
    """Expand a product or power and check at a point."""
    symbols = sorted(f.free_symbols, key=lambda s: s.name)
    if not symbols or len(symbols) > 3 or not _nice(f):
        return None
    if f.is_Pow and f.base.is_Add and f.exp.is_Integer and int(f.exp) > 10:
        return None
    expanded = sympy.expand(f)
    if expanded == f or len(sympy.Add.make_args(expanded)) > 12 or not _nice(expanded, 220):
        return None
    plain = _plain(f)
    scenes = [_title_scene(
        "Intro", "The expression", f"Multiply out {plain}.", "Expanding", _latex(f),
        "Multiply everything out")]
    if f.is_Pow and f.base.is_Add and len(f.base.args) == 2 and f.exp.is_Integer:
        n = int(f.exp)
        row = [sympy.binomial(n, k) for k in range(n + 1)]
        scenes.append(_steps_scene(
            "Pascal", "Binomial coefficients", f"The coefficients are row {n} of Pascal's "
            "triangle.", "Binomial coefficients",
            [rf"\binom{{{n}}}{{k}}:\quad " + r",\ ".join(str(b) for b in row)],
            claims=[f"binomial({n}, {k}) == {row[k]}" for k in range(1, min(n, 3))]))
    scenes.append(_steps_scene(
        "Expand", "Multiply out", f"{plain} = {_plain(expanded)}.", "Expanded form",
        [_latex(f), _latex(expanded)], transform=True,
        claims=[f"expand({_sstr(f)}) == {_sstr(expanded)}"]))
    for start in (2, 3, 5, 7):
        point = {s: sympy.Integer(start + i) for i, s in enumerate(symbols)}
        value = f.subs(point)
        if value.is_finite:
            break
    else:
        return None
    left, right = _sstr(f), _sstr(expanded)
    for s, val in point.items():
        left = re.sub(rf"\b{s.name}\b", f"({val})", left)
        right = re.sub(rf"\b{s.name}\b", f"({val})", right)
    where = ", ".join(f"{s} = {val}" for s, val in point.items())
    shown = {s: sympy.UnevaluatedExpr(val) for s, val in point.items()}
    scenes.append(_steps_scene(
        "Check", "Check with numbers", f"Both forms agree at {where}.", f"Check at {where}",
        [rf"{_latex(f.xreplace(shown))} = {_latex(value)}",
         rf"{_latex(expanded.xreplace(shown))} = {_latex(value)}"],
        claims=[f"{left} == {_sstr(value)}", f"{right} == {_sstr(value)}"],
        note=f"both forms give {value}", box_last=False))
    return _Content("expand", f"Expanding {plain}", tuple(scenes[:4]))


def _simplify_content(f: sympy.Expr) -> _Content | None:
    """Simplify an expression (cancel common factors)."""
    if not _nice(f) or len(f.free_symbols) > 2:
        return None
    simple = sympy.simplify(f) if sympy.count_ops(f) <= 30 else sympy.cancel(f)
    if not _nice(simple) or simple == f:
        return None
    plain = _plain(f)
    num, den = sympy.fraction(sympy.together(f))
    scenes = [_title_scene("Intro", "The expression", f"Simplify {plain}.", "Simplifying",
                           _latex(f), "Find a simpler equal form")]
    if den != 1:
        fn, fd = sympy.factor(num), sympy.factor(den)
        scenes.append(_steps_scene(
            "Factor", "Factor top and bottom", "Factoring shows what cancels.",
            "Factor numerator and denominator",
            [rf"\frac{{{_latex(fn)}}}{{{_latex(fd)}}}"],
            claims=[f"factor({_sstr(num)}) == {_sstr(fn)}"]))
    scenes.append(_steps_scene(
        "Result", "The simpler form", f"{plain} = {_plain(simple)}.", "Result",
        [rf"{_latex(f)} = {_latex(simple)}"], claims=[f"{_sstr(f)} == {_sstr(simple)}"],
        note="(where both sides are defined)" if den != 1 else None))
    return _Content("simplify", f"Simplifying {plain}", tuple(scenes))


def _graph_content(f: sympy.Expr) -> _Content | None:
    """Graph a function, mark its intercepts."""
    x = _variable(f)
    if x is None or not _nice(f) or not f.has(x):
        return None
    plot = _best_plot(f, x, _WINDOWS)
    if plot is None:
        return None
    plain, fl, v = _plain(f), _latex(f), _latex(x)
    dots = []
    claims = []
    at0 = f.subs(x, 0)
    if at0.is_finite and at0.is_real and _nice(at0, 60) and _value(plot, 0.0) is not None:
        dots.append((0.0, float(at0)))
        claims.append(f"{_at(f, x, 0)} == {_sstr(at0)}")
    scenes = [
        _title_scene("Intro", "The function", f"Meet f({x}) = {plain}.", "A function and its "
                     "graph", rf"f({v}) = {fl}", "What does it look like?"),
        _plot_scene("Graph", "The graph", f"Draw y = {plain}.", "The graph",
                    rf"y = {fl}", plot, dots=dots, claims=claims),
    ]
    values = []
    value_claims = []
    for point in (0, 1, 2):
        value = f.subs(x, point)
        if value.is_real and value.is_finite and _nice(value, 50):
            approx = "" if value.is_Rational else rf" \approx {float(value):.6g}"
            values.append(rf"f({point}) = {_latex(value)}{approx}")
            value_claims.append(f"{_at(f, x, point)} == {_sstr(value)}")
    if values:
        scenes.append(_steps_scene("Values", "Some values", "Read off a few values.",
                                   "A few values", values[:3], claims=value_claims[:3],
                                   box_last=False))
    if len(scenes) < 3:
        return None
    return _Content("graph", f"The graph of {plain}", tuple(scenes))


# --- matching topic text to expression kinds --------------------------------------------------

_WRT = r"(?:\s+(?:with respect to|wrt|w\.r\.t\.?|in terms of)\s+[a-z])?"
_RE_DERIVATIVE = [
    re.compile(r"^(?:find\s+|compute\s+|what is\s+)?(?:the\s+)?(?:first\s+)?(?:derivative|"
               r"differential)\s+(?:of\s+)?(?P<e>.+?)" + _WRT + r"$", re.I),
    re.compile(r"^(?:differentiate|differentiating)\s+(?P<e>.+?)" + _WRT + r"$", re.I),
    re.compile(r"^d\s*/\s*d[a-z]\s*(?:of\s+)?(?P<e>.+)$", re.I),
]
_RE_INTEGRAL = [
    re.compile(r"^(?:find\s+|compute\s+|evaluate\s+|what is\s+)?(?:the\s+)?(?:definite\s+|"
               r"indefinite\s+)?(?:integral|antiderivative|anti-derivative|integration|"
               r"integrate|integrating)\s+(?:of\s+)?(?P<e>.+?)(?:\s+(?:from|between)\s+"
               r"(?P<a>.+?)\s+(?:to|and)\s+(?P<b>.+?))?$", re.I),
]
_RE_LIMIT = re.compile(
    r"^(?:find\s+|compute\s+|evaluate\s+|what is\s+)?(?:the\s+)?limit\s+(?:of\s+)?(?P<e>.+?)\s*"
    r"(?:,\s*|\s+)(?:as|when|for)\s+(?P<v>[a-z])\s*(?:->|\u2192|approaches|tends to|goes to|"
    r"to)\s*(?P<p>.+?)$", re.I)
_RE_SERIES = re.compile(
    r"^(?:find\s+|compute\s+)?(?:the\s+)?(?P<kind>taylor|maclaurin|power)\s+(?:series|expansion|"
    r"polynomial)\s+(?:of|for)\s+(?P<e>.+?)(?:\s+(?:at|about|around|near|centered at|centred at)"
    r"\s+(?:[a-z]\s*=\s*)?(?P<p>[^ ]+?))?(?:\s+(?:to|up to)\s+(?:order|degree)\s+(?P<n>\d+))?$",
    re.I)
_RE_SOLVE = re.compile(
    r"^(?:(?:solve|solving)(?:\s+for\s+[a-z])?\s*[:,]?|find the (?:roots|zeros|solutions) of|"
    r"(?:the\s+)?(?:roots|zeros|solutions) of)\s+(?:the equation\s+)?(?P<e>.+?)"
    r"(?:\s+for\s+[a-z])?$", re.I)
_RE_FACTOR = re.compile(
    r"^(?:factor|factorise|factorize|factoring|factorising|factorizing)\s+(?:the\s+)?"
    r"(?:polynomial\s+|expression\s+)?(?P<e>.+)$", re.I)
_RE_EXPAND = re.compile(r"^(?:expand|expanding|multiply out)\s+(?:the\s+)?(?P<e>.+)$", re.I)
_RE_SIMPLIFY = re.compile(r"^(?:simplify|simplifying)\s+(?:the\s+)?(?P<e>.+)$", re.I)
_RE_GRAPH = re.compile(
    r"^(?:graph|plot|sketch|draw|the graph)\s+(?:of\s+)?(?:the\s+function\s+|y\s*=\s*)?"
    r"(?P<e>.+)$", re.I)
_DX = re.compile(r"\s*\bd\s*([a-z])\s*$")


def _limit_point(text: str) -> tuple[sympy.Expr, str] | None:
    """Parse a limit point like ``0``, ``0+``, ``pi/2``, ``infinity``, ``-oo from the left``."""
    text = text.strip().rstrip("?.").strip().lower()
    side = ""
    for suffix, s in (("from the right", "+"), ("from above", "+"), ("from the left", "-"),
                      ("from below", "-")):
        if text.endswith(suffix):
            text, side = text[: -len(suffix)].strip(), s
    if text.endswith(("+", "-")) and len(text) > 1 and text[-2] not in "+-*/^":
        text, side = text[:-1].strip(), text[-1]
    text = re.sub(r"\b(?:infinity|inf)\b", "oo", text)
    point = _parse(text, allow_oo=True)
    if point is None or point.free_symbols:
        return None
    if point.is_finite is False and point not in (sympy.oo, -sympy.oo):
        return None
    if point.is_finite and not point.is_real:
        return None
    return point, side


def _bound(text: str) -> sympy.Expr | None:
    """Parse an integration bound: a real constant or +-infinity."""
    text = re.sub(r"\b(?:infinity|inf)\b", "oo", text.strip().rstrip("?.").lower())
    value = _parse(text, allow_oo=True)
    if value is None or value.free_symbols:
        return None
    if value in (sympy.oo, -sympy.oo) or (value.is_finite and value.is_real):
        return value
    return None


def _expression_content(text: str) -> _Content | None:
    """Recognise and compute an expression topic; None when the text is not one.

    Args:
        text: The cleaned topic text.

    Returns:
        The content, or None.
    """
    for pattern in _RE_DERIVATIVE:
        m = pattern.match(text)
        if m:
            f = _parse(_strip_expr(m.group("e")))
            if f is not None:
                return _derivative_content(f)
    m = _RE_LIMIT.match(text)
    if m:
        f = _parse(_strip_expr(m.group("e")))
        point = _limit_point(m.group("p"))
        if f is not None and point is not None:
            return _limit_content(f, sympy.Symbol(m.group("v").lower()), *point)
    for pattern in _RE_INTEGRAL:
        m = pattern.match(text)
        if m:
            body = _DX.sub("", _strip_expr(m.group("e")))
            f = _parse(body)
            if f is None:
                continue
            if m.group("a") is not None:
                a, b = _bound(m.group("a")), _bound(m.group("b"))
                if a is None or b is None:
                    return None
                return _integral_content(f, a, b)
            return _integral_content(f, None, None)
    m = _RE_SERIES.match(text)
    if m:
        f = _parse(_strip_expr(m.group("e")))
        point_text = m.group("p")
        point = sympy.Integer(0)
        if point_text and m.group("kind").lower() != "maclaurin":
            parsed = _parse(point_text)
            if parsed is None or parsed.free_symbols or not parsed.is_real:
                return None
            point = parsed
        order = min(max(int(m.group("n")) + 1, 2), _SERIES_ORDER) if m.group("n") else \
            _SERIES_ORDER
        if f is not None:
            return _series_content(f, point, order)
    m = _RE_SOLVE.match(text)
    if m:
        body = _strip_expr(m.group("e"))
        sides = body.split("=")
        if len(sides) <= 2:
            lhs = _parse(sides[0])
            rhs = _parse(sides[1]) if len(sides) == 2 else sympy.Integer(0)
            if lhs is not None and rhs is not None:
                return _solve_content(lhs, rhs)
    for pattern, build in ((_RE_FACTOR, _factor_content), (_RE_EXPAND, _expand_content),
                           (_RE_SIMPLIFY, _simplify_content), (_RE_GRAPH, _graph_content)):
        m = pattern.match(text)
        if m:
            f = _parse(_strip_expr(m.group("e")))
            if f is not None:
                return build(f)
    return None


# ---------------------------------------------------------------------------------------------
# Named topics
# ---------------------------------------------------------------------------------------------


def _pythagoras() -> _Content:
    """The Pythagorean theorem: statement, squares on a 3-4-5 triangle, numbers, distance."""
    statement = _title_scene(
        "Intro", "The statement", "In a right triangle, a^2 + b^2 = c^2.",
        "The Pythagorean theorem", "a^2 + b^2 = c^2", "for every right triangle")
    c = _Code(numpy=True)
    _heading(c, "Squares on the sides of a 3-4-5 triangle")
    c("A, B, C = np.array([0.0, 0.0, 0.0]), np.array([4.0, 0.0, 0.0]), np.array([0.0, 3.0, 0.0])")
    c("tri = Polygon(A, B, C, color=WHITE, stroke_width=4)")
    c("sq_a = Polygon(A, C, C + LEFT * 3, A + LEFT * 3, color=BLUE, fill_opacity=0.5)")
    c("sq_b = Polygon(A, B, B + DOWN * 4, A + DOWN * 4, color=GREEN, fill_opacity=0.5)")
    c("sq_c = Polygon(B, C, C + np.array([3.0, 4.0, 0.0]), B + np.array([3.0, 4.0, 0.0]), "
      "color=ORANGE, fill_opacity=0.5)")
    c("mark = RightAngle(Line(A, B), Line(A, C), length=0.4)")
    c("la = Text('9', font_size=48).move_to(sq_a)")
    c("lb = Text('16', font_size=48).move_to(sq_b)")
    c("lc = Text('25', font_size=48).move_to(sq_c)")
    c("fig = VGroup(tri, sq_a, sq_b, sq_c, mark, la, lb, lc)")
    c("fig.scale_to_fit_height(5.4).next_to(heading, DOWN, buff=0.3)")
    c.play("Create(tri), Create(mark)", 1.0)
    c.play("FadeIn(sq_a), FadeIn(sq_b), Write(la), Write(lb)", 1.2)
    c.play("FadeIn(sq_c), Write(lc)", 1.0)
    c.play("Indicate(lc)", 0.8)
    c.wait(0.6)
    squares = _Scene("Squares", "Squares on the sides",
                     "The squares on the legs (9 and 16) add up to the square on the "
                     "hypotenuse (25).", c, ("3**2 + 4**2 == 5**2",))
    numbers = _steps_scene(
        "Numbers", "Check with numbers", "Two Pythagorean triples satisfy a^2 + b^2 = c^2.",
        "Check with numbers", ["3^2 + 4^2 = 9 + 16 = 25 = 5^2", "5^2 + 12^2 = 25 + 144 = 169 = 13^2"],
        claims=["3**2 + 4**2 == 5**2", "5**2 + 12**2 == 13**2", "9 + 16 == 25"])
    distance = _steps_scene(
        "Distance", "Distance between points", "The theorem gives the length of the hypotenuse "
        "and the distance formula.", "The length of the hypotenuse",
        [r"c = \sqrt{a^2 + b^2}", r"\sqrt{6^2 + 8^2} = \sqrt{100} = 10"],
        claims=["sqrt(6**2 + 8**2) == 10", "6**2 + 8**2 == 100"])
    return _Content("pythagorean", "The Pythagorean theorem",
                    (statement, squares, numbers, distance))


def _quadratic_formula() -> _Content:
    """The quadratic formula: equation, completing the square, formula, example with graph."""
    x = sympy.Symbol("x")
    intro = _title_scene(
        "Intro", "The question", "Solve any equation a x^2 + b x + c = 0.",
        "The quadratic formula", "ax^2 + bx + c = 0", "solve any quadratic equation")
    square = _steps_scene(
        "Square", "Complete the square", "Divide by a and complete the square.",
        "Complete the square",
        [r"x^2 + \frac{b}{a}x + \frac{c}{a} = 0",
         r"\left(x + \frac{b}{2a}\right)^2 = \frac{b^2 - 4ac}{4a^2}"],
        claims=["(x + b/(2*a))**2 - (b**2 - 4*a*c)/(4*a**2) == x**2 + b*x/a + c/a"])
    formula = _steps_scene(
        "Formula", "The formula", "Take square roots and solve for x.", "Take square roots",
        [r"x + \frac{b}{2a} = \pm\frac{\sqrt{b^2 - 4ac}}{2a}",
         r"x = \frac{-b \pm \sqrt{b^2 - 4ac}}{2a}"],
        claims=["a*((-b + sqrt(b**2 - 4*a*c))/(2*a))**2 + b*((-b + sqrt(b**2 - 4*a*c))/(2*a))"
                " + c == 0",
                "a*((-b - sqrt(b**2 - 4*a*c))/(2*a))**2 + b*((-b - sqrt(b**2 - 4*a*c))/(2*a))"
                " + c == 0"])
    parabola = x**2 - 5 * x + 6
    plot = _plot_plan(parabola, x, (-1, 6), include_y=[0.0])
    claims = ["(5 + sqrt(25 - 24))/2 == 3", "(5 - sqrt(25 - 24))/2 == 2"]
    label = r"x^2 - 5x + 6 = 0:\; x = \frac{5 \pm \sqrt{25 - 24}}{2} = 3,\ 2"
    if plot is not None:
        example = _plot_scene("Example", "An example", "x^2 - 5x + 6 = 0 has roots 2 and 3.",
                              "Example: the roots are 2 and 3", label, plot,
                              dots=[(2.0, 0.0), (3.0, 0.0)], claims=claims)
    else:  # pragma: no cover - the parabola always plots
        example = _steps_scene("Example", "An example", "x^2 - 5x + 6 = 0 has roots 2 and 3.",
                               "Example", [label], claims=claims)
    return _Content("quadratic_formula", "The quadratic formula",
                    (intro, square, formula, example))


def _euler_identity() -> _Content:
    """Euler's identity: statement, Euler's formula on the unit circle, theta = pi."""
    intro = _title_scene(
        "Intro", "The identity", "e^(i pi) + 1 = 0 links five fundamental constants.",
        "Euler's identity", r"e^{i\pi} + 1 = 0", "five constants in one equation",
        claims=["exp(I*pi) + 1 == 0"])
    c = _Code()
    _heading(c, "Euler's formula: a point on the unit circle")
    c(r"formula = MathTex(r'e^{i\theta} = \cos\theta + i\sin\theta', font_size=40)")
    c("formula.next_to(heading, DOWN, buff=0.3)")
    c("plane = NumberPlane(x_range=[-2, 2, 1], y_range=[-2, 2, 1], x_length=4.4, y_length=4.4, "
      "background_line_style={'stroke_opacity': 0.3}).to_edge(DOWN, buff=0.3)")
    c("circle = Circle(radius=plane.get_x_unit_size(), color=BLUE).move_to(plane.c2p(0, 0))")
    c("dot = Dot(plane.c2p(1, 0), color=YELLOW)")
    c("radius = always_redraw(lambda: Line(plane.c2p(0, 0), dot.get_center(), color=YELLOW))")
    c.play("Write(formula)", 1.2)
    c.play("Create(plane), Create(circle)", 1.0)
    c("self.add(radius, dot)")
    c.play("Rotate(dot, angle=PI, about_point=plane.c2p(0, 0))", 2.0)
    c.play("Indicate(dot)", 0.6)
    c.wait(0.4)
    formula = _Scene("Circle", "Euler's formula", "e^(i theta) = cos theta + i sin theta walks "
                     "around the unit circle.", c, ("exp(I*x) == cos(x) + I*sin(x)",))
    half_turn = _steps_scene(
        "HalfTurn", "Half a turn", "At theta = pi the point reaches -1.", "Set theta = pi",
        [r"e^{i\pi} = \cos\pi + i\sin\pi", r"e^{i\pi} = -1", r"e^{i\pi} + 1 = 0"],
        claims=["cos(pi) + I*sin(pi) == -1", "exp(I*pi) == -1", "exp(I*pi) + 1 == 0"])
    return _Content("euler_identity", "Euler's identity", (intro, formula, half_turn))


def _sum_of_integers() -> _Content:
    """1 + 2 + ... + n: Gauss's pairing, the staircase picture, the formula."""
    intro = _title_scene(
        "Intro", "The question", "What is 1 + 2 + 3 + ... + n?", "Sum of the first n integers",
        r"1 + 2 + 3 + \cdots + n = \,?", "add up the first n whole numbers")
    gauss = _steps_scene(
        "Pairs", "Gauss's pairing", "Pair the first and last terms: every pair sums to 101.",
        "Pair the terms", [r"1 + 100 = 2 + 99 = \cdots = 50 + 51 = 101",
                           r"1 + 2 + \cdots + 100 = 50 \times 101 = 5050"],
        claims=["summation(k, (k, 1, 100)) == 5050", "50*101 == 5050", "1 + 100 == 101"])
    c = _Code()
    _heading(c, "Two staircases make a rectangle")
    c("steps = VGroup()")
    c("for i in range(4):")
    c("    for j in range(i + 1):")
    c("        steps.add(Square(side_length=0.6, color=BLUE, fill_opacity=0.7)"
      ".move_to(RIGHT * 0.6 * j + DOWN * 0.6 * i))")
    c("copy = VGroup()")
    c("for i in range(4):")
    c("    for j in range(i + 1, 5):")
    c("        copy.add(Square(side_length=0.6, color=RED, fill_opacity=0.7)"
      ".move_to(RIGHT * 0.6 * j + DOWN * 0.6 * i))")
    c("picture = VGroup(steps, copy).move_to(ORIGIN + DOWN * 0.3)")
    c(r"text = MathTex(r'2\,(1 + 2 + 3 + 4) = 4 \times 5', font_size=40).next_to(picture, DOWN, buff=0.5)")
    c.play("LaggedStart(*[FadeIn(s) for s in steps], lag_ratio=0.1)", 1.2)
    c.play("LaggedStart(*[FadeIn(s) for s in copy], lag_ratio=0.1)", 1.2)
    c.play("Write(text)", 1.0)
    c.wait(0.8)
    staircase = _Scene("Staircase", "The staircase picture",
                       "Two copies of the staircase 1 + 2 + 3 + 4 fill a 4 by 5 rectangle.", c,
                       ("2*(1 + 2 + 3 + 4) == 4*5",))
    formula = _steps_scene(
        "Formula", "The formula", "In general the sum is n(n + 1)/2.", "The formula",
        [r"\sum_{k=1}^{n} k = \frac{n(n+1)}{2}"],
        claims=["summation(k, (k, 1, n)) == n*(n + 1)/2"], note="n = 100 gives 5050")
    return _Content("arithmetic_series", "The sum of the first n integers",
                    (intro, gauss, staircase, formula))


def _geometric_series() -> _Content:
    """Geometric series: shift-and-subtract, the halving square, the infinite sum."""
    intro = _title_scene(
        "Intro", "The question", "Add up 1 + r + r^2 + ... + r^(n-1).", "Geometric series",
        r"1 + r + r^2 + \cdots + r^{n-1}", "each term is r times the previous one")
    shift = _steps_scene(
        "Shift", "Shift and subtract", "Multiplying by r shifts the sum; subtracting cancels "
        "almost everything.", "Shift and subtract",
        [r"S = 1 + r + r^2 + \cdots + r^{n-1}", r"rS = r + r^2 + \cdots + r^{n}",
         r"S - rS = 1 - r^n", r"S = \frac{1 - r^n}{1 - r}"],
        claims=["summation(r**k, (k, 0, 4)) == (1 - r**5)/(1 - r)",
                "(1 - r)*(1 + r + r**2 + r**3 + r**4) == 1 - r**5"])
    c = _Code()
    _heading(c, "Halves fill the whole square")
    c("outline = Square(side_length=4, color=WHITE).shift(DOWN * 0.5)")
    c("pieces = VGroup()")
    c("x0, y0, w, h = -2.0, -2.5, 4.0, 4.0")
    c("for i in range(6):")
    c("    if i % 2 == 0:")
    c("        w = w / 2")
    c("        rect = Rectangle(width=w, height=h).move_to(np.array([x0 + w / 2, y0 + h / 2, 0]))")
    c("        x0 = x0 + w")
    c("    else:")
    c("        h = h / 2")
    c("        rect = Rectangle(width=w, height=h).move_to(np.array([x0 + w / 2, y0 + h / 2, 0]))")
    c("        y0 = y0 + h")
    c("    rect.set_fill(interpolate_color(BLUE, GREEN, i / 5), opacity=0.8).set_stroke(WHITE, 2)")
    c("    pieces.add(rect)")
    c(r"label = MathTex(r'\frac12 + \frac14 + \frac18 + \cdots = 1', font_size=40)")
    c("label.next_to(outline, RIGHT, buff=0.5)")
    c("label.scale_to_fit_width(min(label.width, 4.5))")
    c.play("Create(outline)", 0.6)
    c.play("LaggedStart(*[FadeIn(p) for p in pieces], lag_ratio=0.4)", 2.2)
    c.play("Write(label)", 1.0)
    c.wait(0.8)
    halves = _Scene("Halves", "Halving a square", "1/2 + 1/4 + 1/8 + ... fills a unit square.",
                    c, ("summation(1/2**k, (k, 1, oo)) == 1",))
    infinite = _steps_scene(
        "Infinite", "The infinite sum", "For |r| < 1, r^n goes to 0 and the sum is 1/(1 - r).",
        "When |r| < 1",
        [r"\sum_{k=0}^{\infty} r^k = \frac{1}{1 - r}",
         r"\sum_{k=0}^{\infty} \left(\frac13\right)^k = \frac{3}{2}"],
        claims=["summation((1/3)**k, (k, 0, oo)) == 3/2", "1/(1 - 1/3) == 3/2"])
    return _Content("geometric_series", "Geometric series", (intro, shift, halves, infinite))


def _circle_area() -> _Content:
    """Area of a circle: statement, rings unrolled into a triangle, example."""
    c = _Code()
    c("title = Text('The area of a circle', font_size=44).to_edge(UP)")
    c("circle = Circle(radius=1.8, color=BLUE, fill_opacity=0.4).shift(LEFT * 2.5 + DOWN * 0.5)")
    c("radius = Line(circle.get_center(), circle.get_right(), color=YELLOW)")
    c("r_label = MathTex('r', font_size=40).next_to(radius, UP, buff=0.1)")
    c(r"formula = MathTex(r'A = \pi r^2', font_size=64).shift(RIGHT * 3 + DOWN * 0.5)")
    c.play("Write(title)", 1.0)
    c.play("DrawBorderThenFill(circle)", 1.2)
    c.play("Create(radius), Write(r_label)", 0.8)
    c.play("Write(formula)", 1.0)
    c.wait(0.8)
    intro = _Scene("Intro", "The statement", "A circle of radius r has area pi r^2.", c)
    d = _Code()
    _heading(d, "Unroll thin rings into a triangle")
    d("rings = VGroup(*[Annulus(inner_radius=0.3 * i, outer_radius=0.3 * (i + 1), "
      "color=interpolate_color(BLUE, GREEN, i / 5), fill_opacity=0.7, stroke_width=1) "
      "for i in range(6)]).shift(LEFT * 3.5 + DOWN * 0.6)")
    d("tri = Polygon(np.array([0.5, -2.4, 0]), np.array([6.0, -2.4, 0]), "
      "np.array([0.5, -0.6, 0]), color=GREEN, fill_opacity=0.6)")
    d(r"base = MathTex(r'2\pi r', font_size=34).next_to(tri, DOWN, buff=0.15)")
    d("height = MathTex('r', font_size=34).next_to(tri, LEFT, buff=0.15)")
    d(r"area = MathTex(r'\tfrac12 \cdot 2\pi r \cdot r = \pi r^2', font_size=40)"
      ".next_to(tri, UP, buff=0.5)")
    d.play("LaggedStart(*[FadeIn(r) for r in rings], lag_ratio=0.2)", 1.2)
    d.play("TransformFromCopy(rings, tri)", 1.2)
    d.play("Write(base), Write(height)", 0.8)
    d.play("Write(area)", 1.0)
    d.wait(0.6)
    rings = _Scene("Rings", "Rings into a triangle",
                   "A ring at radius t has length 2 pi t; stacking them gives a triangle of "
                   "area pi r^2.", d,
                   ("integrate(2*pi*t, (t, 0, r)) == pi*r**2", "(1/2)*(2*pi*r)*r == pi*r**2"))
    example = _steps_scene(
        "Example", "An example", "A circle of radius 3 has area 9 pi, about 28.27.",
        "Example: r = 3", [r"A = \pi \cdot 3^2 = 9\pi \approx 28.27"],
        claims=["pi*3**2 == 9*pi"], note="doubling the radius multiplies the area by 4")
    return _Content("circle_area", "The area of a circle", (intro, rings, example))


def _rule_example(kind: str) -> _Content:
    """The chain rule or the product rule, each with a worked example and a tangent picture."""
    x = sympy.Symbol("x")
    if kind == "chain":
        f = sympy.sin(x**2)
        intro = _title_scene(
            "Intro", "The rule", "The derivative of a composition is outer' at inner times "
            "inner'.", "The chain rule", r"\frac{d}{dx} f(g(x)) = f'(g(x))\, g'(x)",
            "differentiate outside, then inside")
        parts = _steps_scene(
            "Parts", "Outer and inner", "For sin(x^2): outer sin u, inner u = x^2.",
            "Example: sin(x^2)",
            [r"f(u) = \sin u,\quad f'(u) = \cos u", r"g(x) = x^2,\quad g'(x) = 2x"],
            claims=["diff(sin(u), u) == cos(u)", "diff(x**2, x) == 2*x"], box_last=False)
        result = _steps_scene(
            "Combine", "Multiply", "Multiply outer' at the inner function by inner'.",
            "Multiply", [r"\frac{d}{dx}\sin(x^2) = \cos(x^2)\cdot 2x"],
            claims=["diff(sin(x**2), x) == 2*x*cos(x**2)"])
        title = "The chain rule"
    else:
        f = x**2 * sympy.sin(x)
        intro = _title_scene(
            "Intro", "The rule", "The derivative of a product: (fg)' = f'g + fg'.",
            "The product rule", r"(f\,g)' = f'\,g + f\,g'", "each factor takes a turn")
        parts = _steps_scene(
            "Parts", "The two factors", "For x^2 sin x: f = x^2 and g = sin x.",
            r"Example: x^2 sin x",
            [r"f = x^2,\quad f' = 2x", r"g = \sin x,\quad g' = \cos x"],
            claims=["diff(x**2, x) == 2*x", "diff(sin(x), x) == cos(x)"], box_last=False)
        result = _steps_scene(
            "Combine", "Put it together", "Add f'g and fg'.", "Put it together",
            [r"\frac{d}{dx}\left(x^2 \sin x\right) = 2x\sin x + x^2\cos x"],
            claims=["diff(x**2*sin(x), x) == 2*x*sin(x) + x**2*cos(x)"])
        title = "The product rule"
    scenes = [intro, parts, result]
    fp = sympy.diff(f, x)
    plot = _plot_plan(f, x, (-3, 3))
    if plot is not None:
        point = _tangent_point(f, fp, x, plot)
        if point is not None:
            x0, tangent, slope = point
            scenes.append(_plot_scene(
                "Tangent", "The slope on the graph", f"The derivative at x = {x0} is the slope "
                "of the tangent line.", "The derivative is the slope",
                rf"f'({_latex(x0)}) = {_latex(slope)}", plot, tangent=tangent,
                claims=[f"{_at(fp, x, x0)} == {_sstr(slope)}"]))
    return _Content(f"{kind}_rule", title, tuple(scenes))


def _ftc() -> _Content:
    """The fundamental theorem of calculus: statement, area, evaluation, derivative of area."""
    x = sympy.Symbol("x")
    intro = _title_scene(
        "Intro", "The theorem", "Integrals are computed with antiderivatives: F(b) - F(a).",
        "The fundamental theorem of calculus", r"\int_a^b f(x)\,dx = F(b) - F(a)",
        "where F' = f")
    scenes = [intro]
    plot = _plot_plan(x**2, x, (-0.5, 2.5), cover=(0.0, 2.0))
    if plot is not None:
        scenes.append(_plot_scene("Area", "An area", "The area under x^2 from 0 to 2.",
                                  "The area under y = x^2 from 0 to 2", r"\int_0^2 x^2\,dx",
                                  plot, area=(0.0, 2.0)))
    scenes.append(_steps_scene(
        "Evaluate", "Use an antiderivative", "F(x) = x^3/3, so the area is 8/3.",
        "Use an antiderivative",
        [r"F(x) = \frac{x^3}{3},\quad F'(x) = x^2",
         r"\int_0^2 x^2\,dx = F(2) - F(0) = \frac{8}{3}"],
        claims=["diff(x**3/3, x) == x**2", "integrate(x**2, (x, 0, 2)) == 8/3",
                "2**3/3 - 0**3/3 == 8/3"]))
    scenes.append(_steps_scene(
        "Derivative", "The area function", "Differentiating the area function gives back f.",
        "The derivative of the area",
        [r"\frac{d}{dx}\int_0^x t^2\,dt = x^2"],
        claims=["diff(integrate(t**2, (t, 0, x)), x) == x**2"],
        note="integration and differentiation undo each other"))
    return _Content("fundamental_theorem", "The fundamental theorem of calculus", tuple(scenes))


def _binomial_theorem() -> _Content:
    """The binomial theorem: statement, Pascal's triangle, an example, row sums."""
    intro = _title_scene(
        "Intro", "The theorem", "(a + b)^n expands with binomial coefficients.",
        "The binomial theorem", r"(a+b)^n = \sum_{k=0}^{n} \binom{n}{k} a^{n-k} b^k",
        "coefficients from Pascal's triangle")
    c = _Code()
    _heading(c, "Pascal's triangle")
    rows = [[int(sympy.binomial(n, k)) for k in range(n + 1)] for n in range(6)]
    c(f"rows = VGroup(*[VGroup(*[Text(str(v), font_size=34) for v in row]).arrange(RIGHT, "
      f"buff=0.6) for row in {rows!r}]).arrange(DOWN, buff=0.3)")
    c("rows.next_to(heading, DOWN, buff=0.5)")
    c("rule = Text('each number is the sum of the two above it', font_size=26, color=GRAY_B)")
    c("rule.next_to(rows, DOWN, buff=0.4)")
    c.play("LaggedStart(*[FadeIn(r, shift=DOWN * 0.2) for r in rows], lag_ratio=0.3)", 2.2)
    c.play("Indicate(rows[5][2]), Indicate(rows[4][1]), Indicate(rows[4][2])", 1.0)
    c.play("FadeIn(rule)", 0.6)
    c.wait(0.6)
    pascal = _Scene("Pascal", "Pascal's triangle", "Each entry is the sum of the two above it.",
                    c, ("binomial(5, 2) == 10", "binomial(4, 1) + binomial(4, 2) == binomial(5, 2)"))
    example = _steps_scene(
        "Example", "An example", "(a + b)^3 = a^3 + 3a^2 b + 3a b^2 + b^3.", "Example: n = 3",
        [r"(a+b)^3", r"a^3 + 3a^2b + 3ab^2 + b^3"], transform=True,
        claims=["expand((a + b)**3) == a**3 + 3*a**2*b + 3*a*b**2 + b**3"])
    sums = _steps_scene(
        "RowSums", "Row sums", "Setting a = b = 1 shows each row sums to 2^n.",
        "Set a = b = 1", [r"\sum_{k=0}^{n} \binom{n}{k} = 2^n", "1 + 5 + 10 + 10 + 5 + 1 = 32 = 2^5"],
        claims=["1 + 5 + 10 + 10 + 5 + 1 == 2**5", "summation(binomial(5, k), (k, 0, 5)) == 32"])
    return _Content("binomial_theorem", "The binomial theorem", (intro, pascal, example, sums))


_NAMED: tuple[tuple[re.Pattern[str], Callable[[], _Content]], ...] = (
    (re.compile(r"pythag"), _pythagoras),
    (re.compile(r"quadratic (?:formula|equation)"), _quadratic_formula),
    (re.compile(r"euler'?s? (?:identity|formula|equation)|e\^\(?i\s*\*?\s*(?:pi|\u03c0)"),
     _euler_identity),
    (re.compile(r"sum of (?:the )?first (?:n )?(?:\w+ )?(?:integers|natural numbers|numbers|"
                r"positive integers)|arithmetic (?:series|progression|sum)|gauss.{0,10}sum|"
                r"1 ?\+ ?2 ?\+ ?3"), _sum_of_integers),
    (re.compile(r"geometric (?:series|progression|sum)"), _geometric_series),
    (re.compile(r"area of (?:a |the )?circle|circle'?s? area|area of circles"), _circle_area),
    (re.compile(r"chain rule"), lambda: _rule_example("chain")),
    (re.compile(r"product rule"), lambda: _rule_example("product")),
    (re.compile(r"fundamental theorem of calculus|\bftc\b"), _ftc),
    (re.compile(r"binomial (?:theorem|expansion|formula)|pascal'?s? triangle"), _binomial_theorem),
)


# ---------------------------------------------------------------------------------------------
# Generic topics
# ---------------------------------------------------------------------------------------------


def _generic(text: str) -> _Content:
    """A title / key idea / summary explainer for a topic this module does not know."""
    shown = _display(text)
    wrapped = _wrap(shown)
    title = _truncate(shown, 80)
    intro = _title_scene("Intro", "The topic", f"Introduce the topic: {title}.", wrapped, None,
                         "a short explainer")
    c = _Code()
    _heading(c, "The key idea")
    c(f"topic = Text({_wrap(shown, 40, 2)!r}, font_size=32)")
    c("steps = VGroup(*[Text(s, font_size=28) for s in ['1. State the question precisely', "
      "'2. Work through a small example', '3. Generalise the pattern']])"
      ".arrange(DOWN, aligned_edge=LEFT, buff=0.3)")
    c("body = VGroup(topic, steps).arrange(DOWN, buff=0.6)")
    _fit(c, "body", 12.5, 5.4)
    c("body.next_to(heading, DOWN, buff=0.5)")
    c.play("Write(topic)", 1.2)
    c.play("LaggedStart(*[FadeIn(s, shift=RIGHT * 0.3) for s in steps], lag_ratio=0.4)", 1.8)
    c.wait(1.0)
    idea = _Scene("KeyIdea", "The key idea", f"The central idea behind {title}.", c)
    d = _Code()
    _heading(d, "Summary")
    d(f"topic = Text({_wrap(shown, 40, 2)!r}, font_size=32)")
    d("recap = Text('question, example, general idea', font_size=28, color=GRAY_B)")
    d("body = VGroup(topic, recap).arrange(DOWN, buff=0.5)")
    _fit(d, "body", 12.5, 5.4)
    d("box = SurroundingRectangle(body, color=YELLOW, buff=0.3)")
    d.play("FadeIn(body)", 1.2)
    d.play("Create(box)", 1.0)
    d.wait(1.5)
    summary = _Scene("Summary", "Summary", f"Recap {title}.", d)
    return _Content("generic", title, (intro, idea, summary))


def _extra_scene(title: str, goal: str) -> _Scene:
    """A scene for a planned entry beyond this module's own content: its title and goal."""
    c = _Code()
    _heading(c, _truncate(_display(title, 60), 60))
    c(f"goal = Text({_wrap(_display(goal or title, 120), 40, 3)!r}, font_size=30)")
    _fit(c, "goal", 12.5, 4.5)
    c("goal.next_to(heading, DOWN, buff=0.8)")
    c.play("Write(goal)", 2.0)
    c.wait(1.5)
    return _Scene("Recap", title, goal, c)


# ---------------------------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------------------------


@lru_cache(maxsize=256)
def _content(topic: str) -> _Content:
    """Everything the offline LLM says about ``topic`` (cached; never raises)."""
    text = _truncate(_clean_text(topic if isinstance(topic, str) else str(topic)),
                     _MAX_TOPIC_CHARS)
    try:
        content = _bounded(lambda: _expression_content(text), _SYMPY_SECONDS)
        if content is not None and 2 <= len(content.scenes) <= 4:
            return content
        lowered = text.lower()
        for pattern, build in _NAMED:
            if pattern.search(lowered):
                return build()
    except Exception:
        pass
    return _generic(text)


def decompose(topic: str) -> dict[str, Any]:
    """Plan an explainer video for a topic.

    Args:
        topic: Free text from the manifest (user input; any string).

    Returns:
        ``{"title": str, "scenes": [{"id": "s1", "title": str, "goal": str}, ...]}`` with 2 to 4
        scenes (see ``contract.md``).
    """
    content = _content(topic if isinstance(topic, str) else str(topic))
    return {
        "title": content.title,
        "scenes": [
            {"id": f"s{i}", "title": scene.title, "goal": scene.goal}
            for i, scene in enumerate(content.scenes, start=1)
        ],
    }


def _planned(plan: Any) -> list[tuple[str, str, str]]:
    """``(id, title, goal)`` of each planned scene, or an empty list when the plan is unusable."""
    if not isinstance(plan, dict) or not isinstance(plan.get("scenes"), list):
        return []
    entries = []
    for i, scene in enumerate(plan["scenes"][:8], start=1):
        if not isinstance(scene, dict):
            return []
        sid = scene.get("id")
        sid = sid if isinstance(sid, str) and re.fullmatch(r"s[0-9]+", sid) else f"s{i}"
        title = scene.get("title") if isinstance(scene.get("title"), str) else ""
        goal = scene.get("goal") if isinstance(scene.get("goal"), str) else ""
        entries.append((sid, str(title), str(goal)))
    return entries


def script(topic: str, plan: dict[str, Any]) -> dict[str, Any]:
    """Write the scene modules for a planned explainer.

    Args:
        topic: The topic text.
        plan: The decomposition (normally :func:`decompose`'s answer; any plan with 1 to 8
            scenes is accepted, an unusable one is replaced by :func:`decompose`'s).

    Returns:
        ``{"scenes": [{"id", "class_name", "code", "claims"}, ...]}``: one entry per planned scene,
        same ids and order (see ``contract.md``).
    """
    topic = topic if isinstance(topic, str) else str(topic)
    content = _content(topic)
    entries = _planned(plan) or [
        (s["id"], s["title"], s["goal"]) for s in decompose(topic)["scenes"]
    ]
    ours = list(content.scenes)
    count = len(entries)
    if count >= len(ours):
        chosen = ours + [_extra_scene(title, goal) for _, title, goal in entries[len(ours):]]
    elif count == 1:
        chosen = [ours[-1]]
    else:
        chosen = [*ours[: count - 1], ours[-1]]
    scenes = []
    for i, ((sid, _, _), scene) in enumerate(zip(entries, chosen, strict=True), start=1):
        class_name = f"S{i}{scene.key}"
        scenes.append({
            "id": sid,
            "class_name": class_name,
            "code": scene.code.module(class_name),
            "claims": list(scene.claims),
        })
    return {"scenes": scenes}


_FORMAT_LINE = re.compile(r"^\s*FORMAT:\s*(\S+)\s*$", re.MULTILINE)


def respond(system: str, user: str) -> str | None:
    """Answer an explainer LLM request offline.

    Args:
        system: The system prompt; it must hold a line ``FORMAT: explainer.decompose.v1``,
            ``FORMAT: explainer.script.v1`` or ``FORMAT: explainer.repair.v1``.
        user: The user message: a ``Topic: <topic>`` line; for the script step also a ``Plan:``
            line followed by the decomposition JSON.

    Returns:
        The JSON text answer, or None when the request is not one of the explainer's.
    """
    tags = _FORMAT_LINE.findall(system or "")
    if DECOMPOSE_FORMAT in tags:
        return json.dumps(decompose(_topic_of(user)))
    if SCRIPT_FORMAT in tags:
        return json.dumps(script(_topic_of(user), _plan_of(user)))
    if REPAIR_FORMAT in tags:  # its own scenes do not fail; answer the scene asked for afresh
        found = re.search(r"^Scene to fix: (\S+)", user or "", re.MULTILINE)
        scenes = script(_topic_of(user), _plan_of(user))["scenes"]
        wanted = found.group(1) if found else ""
        return json.dumps(next((s for s in scenes if s["id"] == wanted), scenes[0]))
    return None


def _topic_of(user: str) -> str:
    """The topic from a ``Topic: ...`` line (the whole message when there is none)."""
    for line in (user or "").splitlines():
        if line.startswith("Topic:"):
            return line[len("Topic:"):].strip()
    return (user or "").strip()


def _plan_of(user: str) -> dict[str, Any]:
    """The plan JSON after the ``Plan:`` line (empty dict when missing or invalid)."""
    lines = (user or "").splitlines()
    for i, line in enumerate(lines):
        if line.strip().startswith("Plan:"):
            text = line.strip()[len("Plan:"):] + "\n" + "\n".join(lines[i + 1:])
            try:
                plan = json.loads(text)
            except ValueError:
                return {}
            return plan if isinstance(plan, dict) else {}
    return {}
