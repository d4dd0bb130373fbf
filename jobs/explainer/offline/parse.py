"""Topic text into sympy, safely: the allowlist, the parse-tree guard, and the time limit on sympy.

The topic is user input. Only text matching a strict allowlist (digits, ASCII letters, spaces and
``+ - * / ^ ( ) . , =``; single-letter names or a few function names; at most 120 characters; no
attribute access) reaches sympy's parser, whose namespace has no builtins; the parsed tree is bounded
(size, exponents, literal sizes) before it is evaluated, and sympy's work for one topic runs under a
time limit (the computation is interrupted when it passes).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from typing import Any, TypeVar

import sympy

from jobs.explainer.mathcheck import parser_globals

_T = TypeVar("_T")

# Limits on what the topic parser accepts and on sympy's work.
_MAX_EXPR_CHARS = 120
_MAX_NODES = 80
_MAX_DEPTH = 14
_MAX_EXPONENT = 20
_MAX_LITERAL = 10**6
SYMPY_SECONDS = 10.0

_EXPR_CHARS = re.compile(r"^[0-9A-Za-z +\-*/^().,=]*$")
_ATTRIBUTE = re.compile(r"\.\s*[A-Za-z_]")
_SCI_NOTATION = re.compile(r"\d[eE][+-]?\d")
_IDENT = re.compile(r"[A-Za-z]+")
_FUNC_NAMES = frozenset(
    "sin cos tan exp log ln sqrt pi e E asin acos atan sinh cosh tanh abs oo".split()
)


class _Abandoned(BaseException):
    """Raised inside a sympy computation that ran past its time limit (not an ``Exception``, so
    sympy's own ``except Exception`` blocks do not swallow it)."""


def bounded(fn: Callable[[], _T], seconds: float) -> _T | None:
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
