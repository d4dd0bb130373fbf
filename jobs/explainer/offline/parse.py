"""Topic text into sympy, safely: the shared safety screen and time limit, and the parser.

The topic is user input. Only text that passes the claim checker's safety screen with the topic
rules (:data:`jobs.explainer.mathcheck.screen.TOPIC_TEXT`: digits, ASCII letters, spaces and
``+ - * / ^ ( ) . , =``; single letters or a few function names; at most 120 characters; no
attribute access) reaches sympy's parser, whose namespace has no builtins; the parsed tree is
bounded (:data:`~jobs.explainer.mathcheck.screen.TOPIC_TREE`: size, exponents, literal sizes)
before it is evaluated, and sympy's work for one topic runs under the checker's time limit
(:func:`jobs.explainer.mathcheck.deadline.time_limit`), in the calling thread.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TypeVar

import sympy

from jobs.explainer.mathcheck.deadline import OutOfTime, time_limit
from jobs.explainer.mathcheck.screen import (
    TOPIC_TEXT,
    TOPIC_TEXT_WITH_OO,
    TOPIC_TREE,
    Rejected,
    guard_tree,
    parser_globals,
    screen_text,
    topic_namespace,
)

_T = TypeVar("_T")

SYMPY_SECONDS = 10.0  # sympy's work for one topic


def bounded(fn: Callable[[], _T], seconds: float) -> _T | None:
    """``fn()``, or None when it fails or runs past ``seconds`` (any sympy failure means "not
    supported": the topic gets another explainer).

    The time limit interrupts pure-Python sympy work at its next bytecode; the input bounds keep
    single C calls short.
    """
    try:
        with time_limit(seconds):
            return fn()
    except (Exception, OutOfTime):
        return None


def parse(text: str, *, allow_oo: bool = False) -> sympy.Expr | None:
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
    if "=" in text or "," in text:
        return None
    try:
        screen_text(text, TOPIC_TEXT_WITH_OO if allow_oo else TOPIC_TEXT)
    except Rejected:
        return None
    transformations = (*standard_transformations, implicit_multiplication_application, convert_xor)
    try:
        raw = parse_expr(text, local_dict=topic_namespace(), global_dict=parser_globals(),
                         transformations=transformations, evaluate=False)
        guard_tree(raw, TOPIC_TREE)
        expr = parse_expr(text, local_dict=topic_namespace(), global_dict=parser_globals(),
                          transformations=transformations)
    except Exception:  # Rejected by the tree guard, or sympy could not parse it
        return None
    if not isinstance(expr, sympy.Expr) or expr.has(sympy.nan, sympy.zoo):
        return None
    if expr.has(sympy.Float):
        expr = sympy.nsimplify(expr, rational=True)
    return expr if isinstance(expr, sympy.Expr) else None


def variable(expr: sympy.Expr) -> sympy.Symbol | None:
    """The expression's single variable (``x`` when it has none), None when it has several."""
    symbols = sorted(expr.free_symbols, key=lambda s: s.name)
    if len(symbols) > 1:
        return None
    return symbols[0] if symbols else sympy.Symbol("x")


_PREFIX = re.compile(r"^(?:[a-z]\s*\(\s*[a-z]\s*\)|y)\s*=\s*(?=[^=]+$)")
_TRAILERS = re.compile(
    r"\s+(?:using|with|by|via|step by step|for beginners|explained|please)\b.*$", re.IGNORECASE
)


def strip_expr(text: str) -> str:
    """Drop ``f(x) =`` / ``y =`` prefixes, trailing prose and punctuation from expression text."""
    text = _TRAILERS.sub("", text.strip())
    text = text.strip().rstrip("?!.;:").strip()
    return _PREFIX.sub("", text)
