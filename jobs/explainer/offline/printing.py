"""Expressions as they appear in scenes and claims (plain text, LaTeX, sympy syntax), and
whether a result is short and elementary enough to be shown and claimed."""

from __future__ import annotations

import re
from typing import Any

import sympy

# Longer results do not fit a scene's formula line.
_MAX_RESULT_LATEX = 180
# Functions a shown and claimed result may use; sympy answers with others (erf, Ei, ...) when there
# is no elementary form, and such topics get other content.
_NICE_FUNCS: tuple[Any, ...] = (
    sympy.sin, sympy.cos, sympy.tan, sympy.cot, sympy.sec, sympy.csc, sympy.exp, sympy.log,
    sympy.asin, sympy.acos, sympy.atan, sympy.sinh, sympy.cosh, sympy.tanh, sympy.Abs,
)


def plain_text(expr: Any) -> str:
    """An expression as plain text for titles: ``x^2 - 5x + 6``, ``e^x``, ``∞``."""
    text = str(sympy.sstr(expr)).replace("**", "^")
    text = re.sub(r"\bexp\(([A-Za-z0-9]+)\)", r"e^\1", text)
    text = re.sub(r"\bexp\(", "e^(", text)
    text = re.sub(r"(?<![\^\w.])(\d+)\*(?=[A-Za-z(])", r"\1", text)
    text = re.sub(r"\boo\b", "∞", text)
    return re.sub(r"(?<![A-Za-z_])E\b", "e", text)


def latex(expr: Any) -> str:
    """An expression as LaTeX."""
    return str(sympy.latex(expr))


def sstr(expr: Any) -> str:
    """An expression in sympy's Python syntax (what mathcheck parses)."""
    return str(sympy.sstr(expr))


def at(expr: Any, var: sympy.Symbol, value: Any) -> str:
    """``expr`` with ``var`` replaced by ``value``, as unevaluated sympy-syntax text.

    Args:
        expr: The expression.
        var: Its variable.
        value: The value to put in.

    Returns:
        e.g. ``"(2)**2 - 5*(2) + 6"``.
    """
    return re.sub(rf"\b{re.escape(var.name)}\b", f"({sstr(value)})", sstr(expr))


def nice(expr: Any, max_latex: int = _MAX_RESULT_LATEX) -> bool:
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
    return len(latex(expr)) <= max_latex


def tidy(expr: sympy.Expr) -> sympy.Expr:
    """A shorter equivalent form when cheap to find (simplify only on small expressions)."""
    candidates = [expr]
    if sympy.count_ops(expr) <= 30:
        candidates.append(sympy.simplify(expr))
        candidates.append(sympy.factor(expr))
    return min(candidates, key=lambda e: (sympy.count_ops(e), len(sstr(e))))
