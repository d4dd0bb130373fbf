"""Indefinite integrals: find them in a parsed claim, and check an equality with them up to a
constant.

When a claim's indefinite integrals all integrate over one variable ``x`` (none nested in another),
both sides are differentiated with respect to ``x`` (real) and compared, so
``integrate(x**2, x) == x**3/3 + C`` holds. Other claims with indefinite integrals are never refuted,
and order relations with them are not checked.
"""

from __future__ import annotations

from typing import Any

import sympy

from .equality import check_equality


def _integral_parts(node: sympy.Basic) -> list[tuple[Any, ...]] | None:
    """The limits of an integral node (sympy ``Integral`` or an inert ``integrate(...)`` call),
    each as a tuple ``(x,)`` or ``(x, a, b)``; None when the node is not an integral."""
    if isinstance(node, sympy.Integral):
        return [tuple(limit) for limit in node.limits]
    if (
        isinstance(node, sympy.core.function.AppliedUndef)
        and node.func.__name__ in ("integrate", "Integral")
        and node.args
    ):
        return [tuple(a.args) if isinstance(a, sympy.Tuple) else (a,) for a in node.args[1:]]
    return None


def indefinite_integrals(node: sympy.Basic, inside: bool = False) -> list[sympy.Symbol | None]:
    """The variables of the indefinite integrals in an unevaluated expression.

    Args:
        node: An inert parse (sympy syntax: function names as undefined functions; LaTeX: the
            rewritten unevaluated expression).
        inside: Whether ``node`` is inside an indefinite integral.

    Returns:
        One entry per indefinite integral: its variable, or None when it cannot be handled by
        differentiating once (no explicit variable, several indefinite variables, nested).
    """
    found: list[sympy.Symbol | None] = []
    limits = _integral_parts(node)
    here = False
    if limits is not None:
        indefinite = [limit for limit in limits if len(limit) == 1]
        if not limits or (indefinite and (inside or len(limits) > 1)):
            found.append(None)
            here = True
        elif indefinite:
            variable = indefinite[0][0]
            found.append(variable if isinstance(variable, sympy.Symbol) else None)
            here = True
    for arg in node.args:
        found.extend(indefinite_integrals(arg, inside or here))
    return found


def plain_integrals(expr: sympy.Expr) -> sympy.Expr:
    """Replace the ``NonElementaryIntegral`` that ``integrate`` may return (which ``evalf`` leaves
    unevaluated) by a plain ``Integral``."""
    from sympy.integrals.risch import NonElementaryIntegral

    found = expr.atoms(NonElementaryIntegral)
    if not found:
        return expr
    return expr.xreplace({node: sympy.Integral(*node.args) for node in found})


def check_antiderivative(claim: str, lhs: sympy.Expr, rhs: sympy.Expr, x: sympy.Symbol) -> dict[str, str]:
    """Check an equality with indefinite integrals in ``x`` up to a constant: compare the derivatives
    of both sides with respect to ``x`` (a real variable)."""
    real = sympy.Dummy(x.name, real=True)
    derivatives = [sympy.diff(side.xreplace({x: real}), real).xreplace({real: x}) for side in (lhs, rhs)]
    result = check_equality(claim, derivatives[0], derivatives[1])
    result["detail"] = f"indefinite integral, up to a constant: d/d{x} of both sides: {result['detail']}"
    return result
