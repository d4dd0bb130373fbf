"""Check one claim in this process: parse it (sympy syntax or LaTeX) and check its relation."""

from __future__ import annotations

import sympy

from .equality import _check_equality
from .inequality import _check_inequality
from .integrals import _check_antiderivative, _indefinite_integrals, _plain_integrals
from .latex import _normalize_latex, _parse_latex_sides, is_latex
from .relation import split_relation
from .result import _result
from .screen import CLAIM_TEXT, Rejected, screen_text
from .syntax import _parse_side


def check_claim(claim: str) -> dict[str, str]:
    """Check one claim in this process (no time limit).

    Args:
        claim: A relation in sympy syntax, e.g. ``"diff(x**3, x) == 3*x**2"``, or in LaTeX, e.g.
            ``r"\frac{d}{dx} x^3 = 3x^2"``.

    Returns:
        ``{"claim", "status", "method", "detail"}`` with status ``verified``, ``refuted`` or
        ``unknown``; the method of a LaTeX claim is prefixed ``latex:``.
    """
    if not isinstance(claim, str):
        return _result(str(claim), "unknown", "rejected", "claim is not a string")
    latex = is_latex(claim)
    result = _check_parsed_claim(claim, latex)
    if latex:
        result["method"] = "latex:" + result["method"]
    return result


def _check_parsed_claim(claim: str, latex: bool) -> dict[str, str]:
    """Parse a claim (sympy syntax or LaTeX) and check its relation."""
    try:
        if latex:
            lhs_text, op, rhs_text = split_relation(_normalize_latex(claim), latex=True)
        else:
            screen_text(claim, CLAIM_TEXT)
            lhs_text, op, rhs_text = split_relation(claim, latex=False)
        if op == "!=":
            return _result(claim, "unknown", "skipped", "'!=' claims are not checked")
        if latex:
            lhs, rhs, inert = _parse_latex_sides(lhs_text, rhs_text)
        else:
            (lhs, lhs_inert), (rhs, rhs_inert) = _parse_side(lhs_text), _parse_side(rhs_text)
            inert = (lhs_inert, rhs_inert)
        indefinite = _indefinite_integrals(inert[0]) + _indefinite_integrals(inert[1])
    except Rejected as exc:
        return _result(claim, "unknown", "rejected", str(exc))
    except RecursionError:
        return _result(claim, "unknown", "rejected", "expression nested too deeply")
    except Exception as exc:
        return _result(claim, "unknown", "rejected", f"{type(exc).__name__}: {exc}"[:300])
    try:
        return _check_relation(claim, lhs, op, rhs, indefinite)
    except RecursionError:
        return _result(claim, "unknown", "error", "recursion limit reached")
    except MemoryError:
        return _result(claim, "unknown", "error", "out of memory")
    except Exception as exc:
        return _result(claim, "unknown", "error", f"{type(exc).__name__}: {exc}"[:300])


def _check_relation(
    claim: str, lhs: sympy.Expr, op: str, rhs: sympy.Expr, indefinite: list[sympy.Symbol | None]
) -> dict[str, str]:
    """Check ``lhs op rhs``, comparing indefinite integrals up to a constant.

    Args:
        claim: The claim text.
        lhs: Left side.
        op: One of ``== < <= > >=``.
        rhs: Right side.
        indefinite: The variables of the claim's indefinite integrals (see
            :func:`_indefinite_integrals`).

    Returns:
        The result record.
    """
    lhs, rhs = _plain_integrals(lhs), _plain_integrals(rhs)
    if not indefinite:
        if op == "==":
            return _check_equality(claim, lhs, rhs)
        return _check_inequality(claim, lhs, rhs, op)
    if op != "==":
        return _result(claim, "unknown", "skipped",
                       "indefinite integrals are defined up to a constant; order relations not checked")
    variables = set(indefinite)
    if len(variables) == 1 and None not in variables:
        (variable,) = variables
        return _check_antiderivative(claim, lhs, rhs, variable)
    result = _check_equality(claim, lhs, rhs)
    if result["status"] == "refuted":
        return _result(claim, "unknown", result["method"],
                       f"indefinite integrals, equal only up to a constant: {result['detail']}")
    return result
