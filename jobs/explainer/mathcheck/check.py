"""Check one claim in this process: parse it (sympy syntax or LaTeX) and check its relation."""

from __future__ import annotations

import sympy

from .equality import check_equality
from .inequality import check_inequality
from .integrals import check_antiderivative, indefinite_integrals, plain_integrals
from .latex import is_latex, normalize_latex, parse_latex_sides
from .relation import split_relation
from .result import record
from .screen import CLAIM_TEXT, Rejected, screen_text
from .syntax import parse_side


def check_claim(claim: str) -> dict[str, str]:
    r"""Check one claim in this process (no time limit).

    Args:
        claim: A relation in sympy syntax, e.g. ``"diff(x**3, x) == 3*x**2"``, or in LaTeX, e.g.
            ``r"\frac{d}{dx} x^3 = 3x^2"``.

    Returns:
        ``{"claim", "status", "method", "detail"}`` with status ``verified``, ``refuted`` or
        ``unknown``; the method of a LaTeX claim is prefixed ``latex:``.
    """
    if not isinstance(claim, str):
        return record(str(claim), "unknown", "rejected", "claim is not a string")
    latex = is_latex(claim)
    result = _check_parsed_claim(claim, latex)
    if latex:
        result["method"] = "latex:" + result["method"]
    return result


def _check_parsed_claim(claim: str, latex: bool) -> dict[str, str]:
    """Parse a claim (sympy syntax or LaTeX) and check its relation."""
    try:
        if latex:
            lhs_text, op, rhs_text = split_relation(normalize_latex(claim), latex=True)
        else:
            screen_text(claim, CLAIM_TEXT)
            lhs_text, op, rhs_text = split_relation(claim, latex=False)
        if op == "!=":
            return record(claim, "unknown", "skipped", "'!=' claims are not checked")
        if latex:
            lhs, rhs, inert = parse_latex_sides(lhs_text, rhs_text)
        else:
            (lhs, lhs_inert), (rhs, rhs_inert) = parse_side(lhs_text), parse_side(rhs_text)
            inert = (lhs_inert, rhs_inert)
        indefinite = indefinite_integrals(inert[0]) + indefinite_integrals(inert[1])
    except Rejected as exc:
        return record(claim, "unknown", "rejected", str(exc))
    except RecursionError:
        return record(claim, "unknown", "rejected", "expression nested too deeply")
    except Exception as exc:
        return record(claim, "unknown", "rejected", f"{type(exc).__name__}: {exc}"[:300])
    try:
        return _check_relation(claim, lhs, op, rhs, indefinite)
    except RecursionError:
        return record(claim, "unknown", "error", "recursion limit reached")
    except MemoryError:
        return record(claim, "unknown", "error", "out of memory")
    except Exception as exc:
        return record(claim, "unknown", "error", f"{type(exc).__name__}: {exc}"[:300])


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
            :func:`indefinite_integrals`).

    Returns:
        The result record.
    """
    lhs, rhs = plain_integrals(lhs), plain_integrals(rhs)
    if not indefinite:
        if op == "==":
            return check_equality(claim, lhs, rhs)
        return check_inequality(claim, lhs, rhs, op)
    if op != "==":
        return record(claim, "unknown", "skipped",
                      "indefinite integrals are defined up to a constant; order relations not checked")
    variables = set(indefinite)
    if len(variables) == 1 and None not in variables:
        (variable,) = variables
        return check_antiderivative(claim, lhs, rhs, variable)
    result = check_equality(claim, lhs, rhs)
    if result["status"] == "refuted":
        return record(claim, "unknown", result["method"],
                      f"indefinite integrals, equal only up to a constant: {result['detail']}")
    return result
