"""Decide an inequality in one real variable from the extreme values of the difference of its sides:
critical points, zeros of ``Abs`` arguments and limits at the ends of its real domain, over one
period when it is periodic."""

from __future__ import annotations

import sympy

from .numeric import APPROXIMATE_TYPES, DIGITS, real_value

# Functions whose real domain sympy's continuous_domain finds, for the study of a one-variable
# inequality; a partial one (log, roots, division...) may not wrap a periodic one (sqrt(cos(x)):
# continuous_domain reports a single period).
_ANALYSABLE = (
    sympy.sin, sympy.cos, sympy.tan, sympy.cot, sympy.sec, sympy.csc, sympy.asin, sympy.acos,
    sympy.atan, sympy.acot, sympy.exp, sympy.log, sympy.sinh, sympy.cosh, sympy.tanh, sympy.asinh,
    sympy.acosh, sympy.atanh, sympy.Abs,
)
_PERIODIC = (sympy.sin, sympy.cos, sympy.tan, sympy.cot, sympy.sec, sympy.csc)
_PARTIAL = (sympy.log, sympy.asin, sympy.acos, sympy.acosh, sympy.atanh)


def sign_of(value: sympy.Expr) -> int | None:
    """The sign (-1, 0, 1) of a real constant or of an infinite limit; None when not known."""
    if value == sympy.oo:
        return 1
    if value == -sympy.oo:
        return -1
    if value.has(sympy.nan, sympy.zoo, sympy.AccumBounds) or value.free_symbols:
        return None
    if value.is_zero:
        return 0
    if value.is_extended_positive:
        return 1
    if value.is_extended_negative:
        return -1
    number = real_value(value, {})
    if number is None:
        return None
    if abs(number) > sympy.Float("1e-25", DIGITS):
        return 1 if number > 0 else -1
    if value.equals(0):
        return 0
    return None


def _interior_points(interval: sympy.Interval) -> list[sympy.Expr]:
    """A few points inside an interval (to check that a function is real there)."""
    a, b = interval.start, interval.end
    if a == -sympy.oo and b == sympy.oo:
        return [sympy.Rational(-5, 2), sympy.Rational(-1, 3), sympy.Rational(1, 3), sympy.Rational(5, 2)]
    if a == -sympy.oo:
        return [b - sympy.Rational(1, 3), b - 3]
    if b == sympy.oo:
        return [a + sympy.Rational(1, 3), a + 3]
    return [a + (b - a) * sympy.Rational(k, 7) for k in (1, 3, 6)]


def _interval_pieces(region: sympy.Set, breakpoints: set[sympy.Expr]) -> list[sympy.Interval] | None:
    """Split the intervals of a set at breakpoints inside them; None unless it is a finite union
    of intervals."""
    intervals = region.args if isinstance(region, sympy.Union) else (region,)
    if not intervals or not all(isinstance(i, sympy.Interval) for i in intervals):
        return None
    pieces: list[sympy.Interval] = []
    for interval in intervals:
        inside = sorted(
            (p for p in breakpoints if interval.start < p < interval.end),
            key=lambda p: float(sympy.N(p, 30)),
        )
        ends = [interval.start, *inside, interval.end]
        for k in range(len(ends) - 1):
            left_open = interval.left_open if k == 0 else False
            right_open = interval.right_open if k == len(ends) - 2 else False
            pieces.append(sympy.Interval(ends[k], ends[k + 1], left_open, right_open))
    return pieces


def _analysable(f: sympy.Expr) -> bool:
    """Whether :func:`study_univariate` may study ``f``: only functions in ``_ANALYSABLE``, and no
    partial function (``log``, ``asin``..., a power other than a positive integer one of a
    non-constant base) of an expression holding a periodic one."""
    for node in sympy.preorder_traversal(f):
        if isinstance(node, sympy.Function) and not isinstance(node, _ANALYSABLE):
            return False
        if not isinstance(node, sympy.Expr) or node.is_Atom:
            continue
        if node.has(*APPROXIMATE_TYPES, sympy.Piecewise):
            return False
        partial = isinstance(node, _PARTIAL) or (
            isinstance(node, sympy.Pow)
            and not (node.exp.is_Integer and node.exp > 0)
            and not (node.base.is_number and node.base.is_positive)
        )
        if partial and any(arg.has(*_PERIODIC) for arg in node.args):
            return False
    return True


def study_univariate(f: sympy.Expr, x: sympy.Symbol, op: str) -> tuple[str, str] | None:
    """Decide ``f op 0`` for a function of one real variable from its extreme values.

    The real domain of ``f`` (where it is continuous and real; one period ``[0, T]`` when ``f`` is
    periodic on all the reals) is cut into intervals at the real zeros of the arguments of
    ``Abs``, on which ``f`` is smooth. On each interval the infimum is the least of the values at
    critical points, at points where ``f'`` is undefined and at closed ends, and of the limits at
    open or infinite ends (approached, not attained). Gives up (None) unless sympy finds finitely
    many such points and every sign is certain.

    Args:
        f: ``lhs - rhs`` in the real symbol ``x``.
        x: The symbol.
        op: One of ``< <= > >=``.

    Returns:
        ``(status, detail)`` with status ``verified`` or ``refuted``, or None.
    """
    from sympy.calculus.util import continuous_domain, periodicity

    if op in ("<", "<="):
        f, op = -f, (">" if op == "<" else ">=")
    strict = op == ">"
    if not _analysable(f) or sympy.count_ops(f) > 200:
        return None
    domain = continuous_domain(f, x, sympy.S.Reals)
    region = domain
    if domain == sympy.S.Reals:
        period = periodicity(f, x)
        if period is not None and period.is_positive and period.is_finite:
            region = sympy.Interval(0, period)
    breakpoints: set[sympy.Expr] = set()
    for node in f.atoms(sympy.Abs):
        zeros = sympy.solveset(node.args[0], x, region)
        if not isinstance(zeros, sympy.FiniteSet) and zeros != sympy.S.EmptySet:
            return None
        breakpoints.update(zeros)
    pieces = _interval_pieces(region, breakpoints)
    if pieces is None:
        return None
    attained: list[tuple[sympy.Expr, sympy.Expr]] = []
    approached: list[tuple[str, sympy.Expr]] = []
    for piece in pieces:
        inside = _interior_points(piece)
        if any(real_value(f, {x: p}) is None for p in inside):
            return None  # e.g. x**(1/3), complex for x < 0 although "continuous"
        smooth = f
        for node in f.atoms(sympy.Abs):
            sign = sign_of(node.args[0].subs(x, inside[0]))
            if not sign:
                return None
            smooth = smooth.xreplace({node: sign * node.args[0]})
        df = sympy.diff(smooth, x)
        points: set[sympy.Expr] = set()
        if df == 0:  # constant on this piece (|x| - x for x > 0)
            points.add(inside[0])
            critical: sympy.Set = sympy.S.EmptySet
        else:
            critical = sympy.solveset(df, x, piece)
        kinks = sympy.Complement(piece, continuous_domain(df, x, piece))
        for found in (kinks, critical):
            if not isinstance(found, sympy.FiniteSet) and found != sympy.S.EmptySet:
                return None
            points.update(found)
        for end, closed, direction in (
            (piece.start, not piece.left_open, "+"),
            (piece.end, not piece.right_open, "-"),
        ):
            if closed and end.is_finite:
                points.add(end)
            elif end.is_finite:
                approached.append((f"{x.name} -> {end}{direction}", sympy.limit(smooth, x, end, direction)))
            else:
                approached.append((f"{x.name} -> {end}", sympy.limit(smooth, x, end)))
        attained.extend((p, f.subs(x, p)) for p in points)
    for where, value in approached:
        sign = sign_of(value)
        if sign is None:
            return None
        if sign < 0:
            return "refuted", f"lhs - rhs tends to {value} as {where}"
    for point, value in attained:
        sign = sign_of(value)
        if sign is None:
            return None
        if sign < 0 or (strict and sign == 0):
            shown = "0" if sign == 0 else str(sympy.N(value, 15))
            return "refuted", f"lhs - rhs = {shown} at {x.name} = {point}"
    where = ", ".join(sorted({str(p) for p, _ in attained})) or "none"
    over = f"one period {region}" if region != domain else f"the real domain {domain}"
    return "verified", f"holds on {over}: extreme points ({where}) and limits at the ends checked"
