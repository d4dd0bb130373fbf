"""Check an order relation: exactly, from sign assumptions, at sample points, by interval arithmetic
or by the study of a one-variable function.

``verified`` by an exact comparison, a decision under real assumptions, interval arithmetic over all
reals for relations built from ``+ * sin cos exp`` and integer powers, or, in one symbol, the study
of the difference on its real domain (:mod:`.univariate`); ``refuted`` by an exact comparison, or a
sampled point, critical point or domain end where the relation fails. Sampled points where a side
is not real are skipped; a relation that holds at every sampled point but is not proven stays
``unknown``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sympy

from .budget import DECIDE_SHARE, time_share
from .deadline import OutOfTime
from .numeric import DIGITS, fmt_point, real_value, sample_points, tolerance
from .result import record
from .univariate import sign_of, study_univariate

_RELATIONS: dict[str, Callable[[Any, Any], Any]] = {
    "<": sympy.Lt,
    "<=": sympy.Le,
    ">": sympy.Gt,
    ">=": sympy.Ge,
}
_PYTHON_RELATIONS: dict[str, Callable[[Any, Any], bool]] = {
    "<": lambda a, b: bool(a < b),
    "<=": lambda a, b: bool(a <= b),
    ">": lambda a, b: bool(a > b),
    ">=": lambda a, b: bool(a >= b),
}


def _decide_sign(difference: sympy.Expr, op: str) -> Any:
    """Decide ``difference op 0`` from sympy's sign assumptions.

    Args:
        difference: ``lhs - rhs`` with real symbols.
        op: One of ``< <= > >=``.

    Returns:
        ``sympy.true``, ``sympy.false`` or None when the sign is not known.
    """
    small = sympy.count_ops(difference) <= 50
    forms = [sympy.expand(difference) if small else difference]
    if small and forms[0].is_polynomial() and len(forms[0].free_symbols) > 0:
        forms.append(sympy.factor(forms[0]))  # (a - b)**2 is known nonnegative, its expansion not
    for form in forms:
        facts = {
            ">": (form.is_positive, form.is_nonpositive),
            ">=": (form.is_nonnegative, form.is_negative),
            "<": (form.is_negative, form.is_nonnegative),
            "<=": (form.is_nonpositive, form.is_positive),
        }
        holds, fails = facts[op]
        if holds:
            return sympy.true
        if fails:
            return sympy.false
    return None


def check_inequality(claim: str, lhs: sympy.Expr, rhs: sympy.Expr, op: str) -> dict[str, str]:
    """Check ``lhs op rhs`` for an order relation.

    Args:
        claim: The claim text.
        lhs: Left side.
        rhs: Right side.
        op: One of ``< <= > >=``.

    Returns:
        The result record.
    """
    if lhs.has(sympy.nan) or rhs.has(sympy.nan):
        return record(claim, "unknown", "symbolic", "a side is undefined (nan)")
    symbols = sorted((lhs - rhs).free_symbols, key=lambda s: s.name)
    relation = _RELATIONS[op]
    if not symbols:
        if lhs.free_symbols or rhs.free_symbols:  # symbols that cancel: compare the difference
            lhs, rhs = lhs - rhs, sympy.Integer(0)
        try:
            decided = relation(lhs, rhs)
        except TypeError as exc:
            return record(claim, "unknown", "exact", f"not comparable: {exc}")
        if decided is sympy.true:
            return record(claim, "verified", "exact", "sympy evaluates the relation to True")
        if decided is sympy.false:
            return record(claim, "refuted", "exact", "sympy evaluates the relation to False")
        left, right = real_value(lhs, {}), real_value(rhs, {})
        if left is not None and right is not None:
            margin = tolerance(lhs, rhs) * max(sympy.Float(1, DIGITS), abs(left), abs(right))
            if abs(left - right) > margin:
                holds = _PYTHON_RELATIONS[op](left, right)
                return record(claim, "verified" if holds else "refuted", "numeric",
                              f"lhs = {sympy.N(left, 15)}, rhs = {sympy.N(right, 15)}")
        return record(claim, "unknown", "exact", "sympy cannot decide the relation")
    real = {s: sympy.Dummy(s.name, real=True) for s in symbols}
    try:
        with time_share(DECIDE_SHARE):
            decided = _decide_sign(lhs.xreplace(real) - rhs.xreplace(real), op)
            if decided is None:
                decided = relation(lhs.xreplace(real), rhs.xreplace(real))
    except (Exception, OutOfTime):  # not comparable (TypeError), or sympy gave up
        decided = None
    if decided is sympy.true:
        return record(claim, "verified", "symbolic", "holds for all real values of its symbols")
    if decided is sympy.false:
        return record(claim, "refuted", "symbolic", "fails for all real values of its symbols")
    compare = _PYTHON_RELATIONS[op]
    evaluated = 0
    for subs in sample_points(symbols):
        left, right = real_value(lhs, subs), real_value(rhs, subs)
        if left is None or right is None:
            continue
        evaluated += 1
        if not compare(left, right):
            return record(
                claim,
                "refuted",
                "numeric",
                f"lhs = {sympy.N(left, 15)}, rhs = {sympy.N(right, 15)} at {fmt_point(subs)}",
            )
    difference = lhs.xreplace(real) - rhs.xreplace(real)
    try:
        with time_share(DECIDE_SHARE):
            if _bound_by_intervals(difference, list(real.values()), op):
                return record(claim, "verified", "intervals", "interval arithmetic over all real values")
            decision = study_univariate(difference, real[symbols[0]], op) if len(symbols) == 1 else None
    except (Exception, OutOfTime):  # sympy could not study it (NotImplementedError...)
        decision = None
    if decision is not None:
        status, detail = decision
        return record(claim, status, "analysis", detail)
    if evaluated:
        return record(
            claim, "unknown", "numeric", f"holds at {evaluated} sampled points, not proven"
        )
    return record(claim, "unknown", "numeric", "no sample point could be evaluated")


def _total_on_reals(expr: sympy.Basic) -> bool:
    """Whether an expression is built only from operations defined on all reals that interval
    arithmetic (``AccumBounds``) evaluates: + and *, integer powers, powers of a positive number,
    ``sin``, ``cos``, ``exp``."""
    if expr.is_Atom:
        return bool(expr.is_Symbol or expr.is_number)
    if isinstance(expr, sympy.Add | sympy.Mul):
        return all(_total_on_reals(arg) for arg in expr.args)
    if isinstance(expr, sympy.Pow):
        base, exp = expr.args
        if exp.is_Integer or (base.is_number and base.is_positive):
            return _total_on_reals(base) and _total_on_reals(exp)
        return False
    if isinstance(expr, sympy.sin | sympy.cos | sympy.exp):
        return _total_on_reals(expr.args[0])
    return False


def _bound_by_intervals(difference: sympy.Expr, symbols: list[sympy.Symbol], op: str) -> bool:
    """Whether interval arithmetic over all reals proves ``difference op 0``.

    Every symbol becomes ``AccumBounds(-oo, oo)``; the resulting interval encloses every value
    (``sin(x) <= 1``: ``1 - sin(x)`` lies in [0, 2]).
    """
    if op in ("<", "<="):
        difference, op = -difference, (">" if op == "<" else ">=")
    if not _total_on_reals(difference):
        return False
    everything = sympy.AccumBounds(-sympy.oo, sympy.oo)
    bound = difference.subs({s: everything for s in symbols})
    if not isinstance(bound, sympy.AccumBounds):
        return False
    sign = sign_of(bound.min)
    return sign is not None and (sign > 0 or (sign == 0 and op == ">="))
