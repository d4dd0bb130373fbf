"""Matching topic text to an expression kind ("Derivative of x^2", "Solve x^2 = 4", ...): the patterns,
the limit points and integration bounds, and the content they lead to."""

from __future__ import annotations

import re

import sympy

from jobs.explainer.offline.algebra import (
    expand_content,
    factor_content,
    graph_content,
    simplify_content,
    solve_content,
)
from jobs.explainer.offline.calculus import (
    derivative_content,
    integral_content,
    limit_content,
    series_content,
)
from jobs.explainer.offline.parse import parse, strip_expr
from jobs.explainer.offline.scenes import Content

# A series is shown up to O((x - a)**6) at most: more terms do not fit a scene.
_SERIES_ORDER = 6

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
    point = parse(text, allow_oo=True)
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
    value = parse(text, allow_oo=True)
    if value is None or value.free_symbols:
        return None
    if value in (sympy.oo, -sympy.oo) or (value.is_finite and value.is_real):
        return value
    return None


def expression_content(text: str) -> Content | None:
    """Recognise and compute an expression topic; None when the text is not one.

    Args:
        text: The cleaned topic text.

    Returns:
        The content, or None.
    """
    for pattern in _RE_DERIVATIVE:
        m = pattern.match(text)
        if m:
            f = parse(strip_expr(m.group("e")))
            if f is not None:
                return derivative_content(f)
    m = _RE_LIMIT.match(text)
    if m:
        f = parse(strip_expr(m.group("e")))
        point = _limit_point(m.group("p"))
        if f is not None and point is not None:
            return limit_content(f, sympy.Symbol(m.group("v").lower()), *point)
    for pattern in _RE_INTEGRAL:
        m = pattern.match(text)
        if m:
            body = _DX.sub("", strip_expr(m.group("e")))
            f = parse(body)
            if f is None:
                continue
            if m.group("a") is not None:
                a, b = _bound(m.group("a")), _bound(m.group("b"))
                if a is None or b is None:
                    return None
                return integral_content(f, a, b)
            return integral_content(f, None, None)
    m = _RE_SERIES.match(text)
    if m:
        f = parse(strip_expr(m.group("e")))
        point_text = m.group("p")
        point = sympy.Integer(0)
        if point_text and m.group("kind").lower() != "maclaurin":
            parsed = parse(point_text)
            if parsed is None or parsed.free_symbols or not parsed.is_real:
                return None
            point = parsed
        order = min(max(int(m.group("n")) + 1, 2), _SERIES_ORDER) if m.group("n") else \
            _SERIES_ORDER
        if f is not None:
            return series_content(f, point, order)
    m = _RE_SOLVE.match(text)
    if m:
        body = strip_expr(m.group("e"))
        sides = body.split("=")
        if len(sides) <= 2:
            lhs = parse(sides[0])
            rhs = parse(sides[1]) if len(sides) == 2 else sympy.Integer(0)
            if lhs is not None and rhs is not None:
                return solve_content(lhs, rhs)
    for pattern, build in ((_RE_FACTOR, factor_content), (_RE_EXPAND, expand_content),
                           (_RE_SIMPLIFY, simplify_content), (_RE_GRAPH, graph_content)):
        m = pattern.match(text)
        if m:
            f = parse(strip_expr(m.group("e")))
            if f is not None:
                return build(f)
    return None
