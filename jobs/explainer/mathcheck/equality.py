"""Check an equality: exactly, symbolically (``simplify``), by series orders or at sample points.

``verified`` when the sides evaluate to the same expression, ``simplify(lhs - rhs)`` is 0, or they
agree at every sampled point (at least 3 evaluable points out of 12); ``refuted`` by an exact
difference or by a sampled point where both sides are finite numbers that differ beyond the
tolerance. The sides are compared as complex values, so a point where one side leaves the reals and
the other does not is a counterexample (``log(x**2) == 2*log(x)`` fails at x = -1); only points
where a side is infinite or undefined are skipped. ``O(...)`` terms compare series up to the weaker
order.
"""

from __future__ import annotations

import sympy

from .budget import SIMPLIFY_SHARE, time_share
from .deadline import OutOfTime
from .numeric import DIGITS, finite_value, fmt_point, fmt_value, sample_points, tolerance
from .result import record

_MIN_AGREEING_POINTS = 3


def _check_order_equality(claim: str, lhs: sympy.Expr, rhs: sympy.Expr) -> dict[str, str]:
    """Check an equality between series expansions carrying ``O(...)`` terms.

    Both sides are compared up to the weaker of their orders: the claim is verified when the
    truncated difference is zero, refuted when it is a nonzero expression of lower order.

    Args:
        claim: The claim text.
        lhs: Left side.
        rhs: Right side.

    Returns:
        The result record.
    """
    orders = [o for o in (lhs.getO(), rhs.getO()) if o is not None]
    if not orders:
        return record(claim, "unknown", "series", "O() term not at top level")
    weakest = orders[0]
    for other in orders[1:]:
        if other.variables != weakest.variables or other.point != weakest.point:
            return record(claim, "unknown", "series", "O() terms at different points")
        if weakest.contains(other):
            continue
        if other.contains(weakest):
            weakest = other
        else:
            return record(claim, "unknown", "series", "O() terms cannot be compared")
    difference = sympy.expand(lhs.removeO() - rhs.removeO()) + weakest
    rest = difference.removeO()
    if rest == 0 or sympy.simplify(rest) == 0:
        return record(claim, "verified", "series", f"equal up to {weakest}")
    return record(claim, "refuted", "series", f"sides differ by {rest} before {weakest}")


def check_equality(claim: str, lhs: sympy.Expr, rhs: sympy.Expr) -> dict[str, str]:
    """Check ``lhs == rhs``.

    Args:
        claim: The claim text.
        lhs: Left side.
        rhs: Right side.

    Returns:
        The result record.
    """
    if lhs.has(sympy.nan) or rhs.has(sympy.nan):
        return record(claim, "unknown", "symbolic", "a side is undefined (nan)")
    if lhs.has(sympy.Order) or rhs.has(sympy.Order):
        return _check_order_equality(claim, lhs, rhs)
    if lhs == rhs:
        shown = str(lhs) if len(str(lhs)) <= 80 else str(lhs)[:77] + "..."
        return record(claim, "verified", "symbolic", f"both sides evaluate to {shown}")
    infinities = (sympy.oo, -sympy.oo, sympy.zoo)
    if lhs in infinities or rhs in infinities:
        if lhs.is_number and rhs.is_number and sympy.zoo not in (lhs, rhs):
            return record(claim, "refuted", "exact", f"{lhs} != {rhs}")
        return record(claim, "unknown", "symbolic", "infinite values that cannot be compared")
    difference = lhs - rhs
    if difference == 0:
        return record(claim, "verified", "symbolic", "lhs - rhs == 0")
    if not difference.has(sympy.oo, -sympy.oo, sympy.zoo):
        try:
            with time_share(SIMPLIFY_SHARE):
                simplified = sympy.simplify(difference)
        except OutOfTime:
            simplified = difference
        if simplified == 0:
            return record(claim, "verified", "symbolic", "simplify(lhs - rhs) == 0")
    if difference.is_Rational:
        return record(claim, "refuted", "exact", f"lhs - rhs == {difference}")
    tol = tolerance(lhs, rhs)
    symbols = sorted(difference.free_symbols, key=lambda s: s.name)
    points = list(sample_points(symbols)) if symbols else [{}]
    agreeing = 0
    for subs in points:
        # Compared as complex values: a side that leaves the reals where the other does not (e.g.
        # log(x**2) vs 2*log(x) at x = -1) is a counterexample, not a point to skip.
        left, right = finite_value(lhs, subs), finite_value(rhs, subs)
        if left is None or right is None:
            continue
        scale = max(sympy.Float(1, DIGITS), *(abs(v) for v in (*left, *right)))
        if max(abs(left[0] - right[0]), abs(left[1] - right[1])) > tol * scale:
            where = f" at {fmt_point(subs)}" if subs else ""
            return record(
                claim,
                "refuted",
                "numeric",
                f"lhs = {fmt_value(left)}, rhs = {fmt_value(right)}{where}",
            )
        agreeing += 1
    if not symbols and agreeing:
        return record(claim, "verified", "numeric",
                      f"sides agree within relative tolerance {float(tol):g} at {DIGITS} digits")
    if agreeing >= _MIN_AGREEING_POINTS:
        return record(
            claim,
            "verified",
            "numeric",
            f"simplify did not reach 0; sides agree at {agreeing} of {len(points)} sample points",
        )
    if agreeing:
        return record(claim, "unknown", "numeric", f"only {agreeing} sample points evaluable")
    return record(claim, "unknown", "numeric", "no sample point could be evaluated")
