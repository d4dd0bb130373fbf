"""Numeric comparison: sample points, finite and real values, tolerance, formatting.

Symbols range over the real numbers: 6 fixed sample points (negative and non-integer values), then 6
drawn from a seeded generator, so that results are deterministic. The tolerance is relative: 1e-20
at 40 digits for exact expressions, 1e-12 when a side holds a float (double precision), 1e-9 when a
side holds an unevaluated integral, sum, limit, product or derivative, which sympy evaluates by
quadrature or extrapolation, strictly: a point where it cannot reach the precision is skipped, never
a counterexample.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator

import sympy

_TOL_EXACT = sympy.Float("1e-20", 50)
_TOL_FLOAT = sympy.Float("1e-12", 50)
_TOL_APPROX = sympy.Float("1e-9", 50)
DIGITS = 40
_SEED = 20_240_601
_N_RANDOM_POINTS = 6
_BASE_VALUES = tuple(
    sympy.Rational(p, q)
    for p, q in ((-7, 3), (13, 10), (-1, 2), (5, 2), (3, 7), (-19, 10), (11, 4), (-3, 8), (7, 5))
)
_N_BASE_POINTS = 6
APPROXIMATE_TYPES = (sympy.Integral, sympy.Sum, sympy.Limit, sympy.Product, sympy.Derivative)


def tolerance(*exprs: sympy.Expr) -> sympy.Float:
    """Relative tolerance for numeric comparison of the sides of a claim.

    1e-9 when a side holds an unevaluated integral, sum, limit, product or derivative (evaluated
    by quadrature or extrapolation), 1e-12 when a side holds a floating-point number (double
    precision), else 1e-20 (exact expressions evaluated at 40 digits).
    """
    if any(e.has(*APPROXIMATE_TYPES) for e in exprs):
        return _TOL_APPROX
    if any(e.has(sympy.Float) for e in exprs):
        return _TOL_FLOAT
    return _TOL_EXACT


def sample_points(symbols: list[sympy.Symbol]) -> Iterator[dict[sympy.Symbol, sympy.Rational]]:
    """Yield the deterministic sample points for a list of symbols.

    The first points rotate through fixed negative and non-integer values; the rest are drawn from a
    seeded generator (denominators 7, 11, 13, so never integers).

    Args:
        symbols: The free symbols, in a fixed order.

    Yields:
        Maps from each symbol to an exact rational value.
    """
    n = len(_BASE_VALUES)
    for j in range(_N_BASE_POINTS):
        yield {s: _BASE_VALUES[(j + 4 * i) % n] for i, s in enumerate(symbols)}
    rng = random.Random(_SEED)
    for _ in range(_N_RANDOM_POINTS):
        yield {s: sympy.Rational(rng.randint(-60, 60), rng.choice((7, 11, 13))) for s in symbols}


Complex = tuple[sympy.Float, sympy.Float]


def finite_value(expr: sympy.Expr, subs: dict[sympy.Symbol, sympy.Rational]) -> Complex | None:
    """Evaluate an expression at a point as a complex number ``(re, im)``.

    Args:
        expr: The expression.
        subs: Values of its free symbols.

    Returns:
        The finite value at ``DIGITS`` digits, or None when it is not finite (or cannot be
        evaluated). An expression holding an unevaluated integral, sum, limit, product or
        derivative is evaluated strictly: None when quadrature or extrapolation cannot reach the
        precision (an oscillating or divergent integral gives a meaningless value otherwise).
    """
    strict = expr.has(*APPROXIMATE_TYPES)
    try:
        if strict:  # evalf(subs=...) leaves an integral over a free symbol unevaluated
            value = (expr.subs(subs) if subs else expr).evalf(DIGITS, strict=True)
        elif subs:
            value = expr.evalf(DIGITS, subs=subs)
        else:
            value = expr.evalf(DIGITS)
        if value.free_symbols or not value.is_number:
            return None
        re_part, im_part = value.as_real_imag()
        re_v = sympy.Float(re_part, DIGITS)
        im_v = sympy.Float(im_part, DIGITS)
    except Exception:
        return None
    if not (math.isfinite(float(re_v)) and math.isfinite(float(im_v))):
        return None
    return re_v, im_v


def real_value(expr: sympy.Expr, subs: dict[sympy.Symbol, sympy.Rational]) -> sympy.Float | None:
    """Like :func:`finite_value`, but None unless the value is real (for order relations)."""
    value = finite_value(expr, subs)
    if value is None:
        return None
    re_v, im_v = value
    if abs(im_v) > sympy.Float("1e-25", DIGITS) * max(1, abs(re_v)):
        return None
    return re_v


def fmt_value(value: Complex) -> str:
    re_v, im_v = value
    if im_v == 0:
        return str(sympy.N(re_v, 15))
    return str(sympy.N(re_v + sympy.I * im_v, 15))


def fmt_point(subs: dict[sympy.Symbol, sympy.Rational]) -> str:
    """Format a sample point as ``x = -7/3, y = 1/2``."""
    return ", ".join(f"{s} = {v}" for s, v in subs.items())
