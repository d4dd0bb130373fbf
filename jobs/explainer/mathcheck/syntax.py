"""Claims in sympy syntax: parse each side with ``parse_expr``, evaluated and inert."""

from __future__ import annotations

from typing import Any

import sympy
from sympy.parsing.sympy_parser import (
    convert_xor,
    implicit_multiplication,
    parse_expr,
    standard_transformations,
)

from .budget import EVALUATE_SHARE, time_share
from .deadline import OutOfTime
from .screen import CLAIM_TREE, FUNCTION_NAMES, Rejected, claim_namespaces, guard_tree

_TRANSFORMATIONS = (*standard_transformations, implicit_multiplication, convert_xor)
_UNEVALUATED_CALCULUS: dict[str, Any] = {
    "integrate": sympy.Integral,
    "summation": sympy.Sum,
    "product": sympy.Product,
    "limit": sympy.Limit,
    "diff": sympy.Derivative,
}


def parse_side(text: str) -> tuple[sympy.Expr, sympy.Basic]:
    """Parse one side of a claim.

    Args:
        text: Screened sympy-syntax text.

    Returns:
        ``(value, inert)``: the evaluated expression, and the unevaluated one with every function
        name bound to an undefined function (where indefinite integrals are found).

    Raises:
        Rejected: A parse failure or something that is not a scalar expression.
    """
    global_dict, local_dict = claim_namespaces()
    inert = {
        name: (sympy.Function(name) if name in FUNCTION_NAMES or name in ("ln", "abs") else value)
        for name, value in local_dict.items()
    }
    inert_globals = dict(global_dict)
    inert_globals["factorial"] = sympy.Function("factorial")
    inert_globals["factorial2"] = sympy.Function("factorial2")
    try:
        raw = parse_expr(
            text,
            local_dict=inert,
            global_dict=inert_globals,
            transformations=_TRANSFORMATIONS,
            evaluate=False,
        )
    except Exception as exc:
        raise Rejected(f"cannot parse {text!r}: {type(exc).__name__}: {exc}") from None
    if not isinstance(raw, sympy.Basic):
        raise Rejected(f"{text!r} is not a scalar expression ({type(raw).__name__})")
    guard_tree(raw, CLAIM_TREE)
    try:
        try:
            with time_share(EVALUATE_SHARE):
                value = parse_expr(
                    text,
                    local_dict=dict(local_dict),
                    global_dict=dict(global_dict),
                    transformations=_TRANSFORMATIONS,
                )
        except OutOfTime:
            # Too slow (integrate() without a closed form...): keep integrals, sums, products,
            # limits and derivatives unevaluated, to be compared numerically.
            value = parse_expr(
                text,
                local_dict={**local_dict, **_UNEVALUATED_CALCULUS},
                global_dict=dict(global_dict),
                transformations=_TRANSFORMATIONS,
            )
    except Exception as exc:
        raise Rejected(f"cannot evaluate {text!r}: {type(exc).__name__}: {exc}") from None
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = sympy.sympify(value)
    if not isinstance(value, sympy.Expr):
        raise Rejected(f"{text!r} is not a scalar expression ({type(value).__name__})")
    return value, raw
