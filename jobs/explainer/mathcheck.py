"""Check the mathematical claims of explainer scenes with sympy.

A claim is one relation between two sympy-syntax expressions, for example
``"diff(x**2, x) == 2*x"`` or ``"integrate(x**2, (x, 0, 1)) == 1/3"``. Relations: ``==`` (a single
``=`` is read as ``==``), ``<``, ``<=``, ``>``, ``>=``; ``!=`` claims are not checked.

Run as a subprocess by the engine::

    python -m jobs.explainer.mathcheck < {"claims": [...], "timeout_per_claim": 10}

It writes ``{"results": [{"claim", "status", "method", "detail"}, ...]}`` on stdout and exits 0. Each
claim is checked in a forked child process that is killed when its time limit passes.

Statuses:

* ``verified``: sympy proves it (``simplify(lhs - rhs) == 0``, an exact comparison, or a decision
  under real assumptions), or an equality agrees at every sampled point (at least 3 evaluable points
  out of 12, symbols ranging over negative and non-integer reals).
* ``refuted``: a counterexample: an exact comparison fails, or a sampled point where both sides are
  finite (complex) numbers that differ beyond the tolerance.
* ``unknown``: anything else (rejected text, parse errors, undecided inequalities, timeouts).

Symbols range over the real numbers. For equalities, sides are compared as complex values, so a point
where one side leaves the reals and the other does not is a counterexample (``log(x**2) == 2*log(x)``
fails at x = -1); only points where a side is infinite or undefined are skipped. Order relations
skip points where a side is not real. ``O(...)`` terms compare series
up to the weaker order. The numeric tolerance is relative: 1e-20 at 40 digits for exact expressions,
1e-12 when a side holds a float (double precision), 1e-9 when a side holds an unevaluated integral,
sum, limit, product or derivative (which sympy evaluates by quadrature or extrapolation).

Safety: sympy's parser calls ``eval``. Claims are screened before parsing: a short allowlist of
characters (no quotes, brackets, underscores, ``;`` or ``:``), no attribute access, no ``__``,
``import``, ``lambda``, every name either a single letter or in an allowlist of sympy functions and
constants, at most 500 characters; the parser's global namespace has no builtins. Numeric powers with
huge exponents and huge factorials are rejected before evaluation. Time limits (a killed child
process per claim) and a 2 GiB address-space limit only apply in the subprocess entry point;
:func:`check_claim` itself has no time limit.
"""

from __future__ import annotations

import json
import math
import random
import re
import sys
from collections.abc import Callable, Iterator
from typing import Any

import sympy
from sympy.parsing.sympy_parser import (
    convert_xor,
    implicit_multiplication,
    parse_expr,
    standard_transformations,
)

__all__ = ["DEFAULT_TIMEOUT", "MAX_CLAIM_CHARS", "check_claim", "check_claims", "main"]

DEFAULT_TIMEOUT = 10.0
MAX_CLAIM_CHARS = 500
MAX_TIMEOUT = 600.0
CHILD_MEMORY_BYTES = 2 * 1024**3

_SAFE_CHARS = re.compile(r"^[A-Za-z0-9 \t+\-*/^().,=<>!]*$")
_ATTRIBUTE = re.compile(r"\.\s*[A-Za-z]")
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9]*")
_BANNED = ("__", "import", "lambda", "exec", "eval", "open", "getattr", "globals", "locals")

_TRANSFORMATIONS = (*standard_transformations, implicit_multiplication, convert_xor)

# sympy functions and constants a claim may name (names longer than one letter).
_FUNCTION_NAMES = (
    "diff integrate limit summation series product sqrt cbrt root sin cos tan cot sec csc asin acos "
    "atan acot atan2 sinh cosh tanh coth asinh acosh atanh exp log sign floor ceiling factorial "
    "binomial gamma Rational expand factor simplify cancel together apart trigsimp Sum Integral "
    "Derivative Limit Product re im conjugate arg Max Min erf erfc Si Ci Ei li fresnels fresnelc "
    "Abs Order"
).split()
_CONSTANT_NAMES: dict[str, Any] = {
    "pi": sympy.pi,
    "oo": sympy.oo,
    "E": sympy.E,
    "I": sympy.I,
    "O": sympy.Order,
    "S": sympy.S,
    "ln": sympy.log,
    "abs": sympy.Abs,
}
_GREEK = "alpha beta delta epsilon theta phi mu sigma omega tau rho lamda nu xi psi eta kappa chi"
_TOL_EXACT = sympy.Float("1e-20", 50)
_TOL_FLOAT = sympy.Float("1e-12", 50)
_TOL_APPROX = sympy.Float("1e-9", 50)
_DIGITS = 40
_MAX_EXPONENT = 10_000
_MAX_FACTORIAL = 100_000
_FACTORIALS = frozenset({"factorial", "factorial2", "binomial", "gamma", "product", "Product"})
_SEED = 20_240_601
_N_RANDOM_POINTS = 6
_MIN_AGREEING_POINTS = 3
_BASE_VALUES = tuple(
    sympy.Rational(p, q)
    for p, q in ((-7, 3), (13, 10), (-1, 2), (5, 2), (3, 7), (-19, 10), (11, 4), (-3, 8), (7, 5))
)
_N_BASE_POINTS = 6
_APPROXIMATE_TYPES = (sympy.Integral, sympy.Sum, sympy.Limit, sympy.Product, sympy.Derivative)


class ClaimRejected(ValueError):
    """A claim that is not checked: unsafe text, an unsupported relation or a parse failure."""


def parser_globals() -> dict[str, Any]:
    """The global namespace for ``parse_expr`` of untrusted text: what sympy's transformations
    need, and no builtins (shared with the offline provider's topic parser)."""
    return {
        "__builtins__": {},
        "Integer": sympy.Integer,
        "Float": sympy.Float,
        "Rational": sympy.Rational,
        "Symbol": sympy.Symbol,
        "Function": sympy.Function,
        "Add": sympy.Add,
        "Mul": sympy.Mul,
        "Pow": sympy.Pow,
        "factorial": sympy.factorial,
        "factorial2": sympy.factorial2,
    }


def _namespaces() -> tuple[dict[str, Any], dict[str, Any]]:
    """Build the parser's global and local namespaces.

    Returns:
        ``(global_dict, local_dict)``: the names the parser's transformations need, with no
        builtins, and the names a claim may use.
    """
    global_dict = parser_globals()
    local_dict: dict[str, Any] = {}
    for letter in "abcdefghijklmnopqrstuvwxyzABCDFGHJKLMNPRTUVWXYZ":
        local_dict[letter] = sympy.Symbol(letter)
    for name in _GREEK.split():
        local_dict[name] = sympy.Symbol(name)
    for name in _FUNCTION_NAMES:
        local_dict[name] = getattr(sympy, name)
    local_dict.update(_CONSTANT_NAMES)
    return global_dict, local_dict


def _screen(claim: str) -> None:
    """Reject a claim whose text is unsafe to give the parser.

    Args:
        claim: The claim text.

    Raises:
        ClaimRejected: Why the claim is not parsed.
    """
    if len(claim) > MAX_CLAIM_CHARS:
        raise ClaimRejected(f"claim longer than {MAX_CLAIM_CHARS} characters")
    if not claim.strip():
        raise ClaimRejected("empty claim")
    lowered = claim.lower()
    for banned in _BANNED:
        if banned in lowered:
            raise ClaimRejected(f"claim contains {banned!r}")
    if not _SAFE_CHARS.match(claim):
        bad = sorted({ch for ch in claim if not _SAFE_CHARS.match(ch)})
        raise ClaimRejected(f"claim contains characters outside the allowlist: {''.join(bad)!r}")
    if _ATTRIBUTE.search(claim):
        raise ClaimRejected("claim uses attribute access")
    _, local_dict = _namespaces()
    for name in _NAME.findall(claim):
        if len(name) > 1 and name not in local_dict:
            raise ClaimRejected(f"unsupported name {name!r}")


def _split_relation(claim: str) -> tuple[str, str, str]:
    """Split a claim at its single top-level relational operator.

    Args:
        claim: The screened claim text.

    Returns:
        ``(lhs, op, rhs)`` with ``op`` one of ``== < <= > >= !=``.

    Raises:
        ClaimRejected: No relation, more than one, or unbalanced parentheses.
    """
    found: list[tuple[int, str]] = []
    depth = 0
    i = 0
    while i < len(claim):
        ch = claim[i]
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth < 0:
                raise ClaimRejected("unbalanced parentheses")
        elif ch in "=<>!":
            two = claim[i : i + 2]
            op = two if two in ("==", "<=", ">=", "!=") else ch
            if op == "!":
                i += 1
                continue  # factorial notation
            if depth > 0:
                raise ClaimRejected("relation inside parentheses")
            found.append((i, "==" if op == "=" else op))
            i += len(op)
            continue
        i += 1
    if depth != 0:
        raise ClaimRejected("unbalanced parentheses")
    if not found:
        raise ClaimRejected("no relation (==, <, <=, >, >=) at top level")
    if len(found) > 1:
        raise ClaimRejected("more than one relation at top level")
    pos, op = found[0]
    width = 1 if claim[pos : pos + 2] not in ("==", "<=", ">=", "!=") else 2
    lhs, rhs = claim[:pos].strip(), claim[pos + width :].strip()
    if not lhs or not rhs:
        raise ClaimRejected("a side of the relation is empty")
    return lhs, op, rhs


def _guard_numbers(node: sympy.Basic) -> None:
    """Reject numeric work whose evaluation could take unbounded time or memory.

    Walks an expression parsed with ``evaluate=False`` and with every function name bound to an
    undefined function, bottom-up: a power of a number needs an exponent of at most
    ``_MAX_EXPONENT`` in absolute value, and factorial-like functions a numeric argument of at most
    ``_MAX_FACTORIAL``.

    Args:
        node: The unevaluated expression.

    Raises:
        ClaimRejected: Why the claim is not evaluated.
    """
    for arg in node.args:
        _guard_numbers(arg)
    if isinstance(node, sympy.Pow) and node.exp.is_number and node.base.is_number:
        if node.base in (sympy.S.Zero, sympy.S.One, sympy.S.NegativeOne):
            return
        if abs(_bounded_value(node.exp)) > _MAX_EXPONENT:
            raise ClaimRejected(f"numeric exponent larger than {_MAX_EXPONENT}")
    elif isinstance(node, sympy.core.function.AppliedUndef) and node.func.__name__ in _FACTORIALS:
        for arg in node.args:
            if arg.is_number and abs(_bounded_value(arg)) > _MAX_FACTORIAL:
                raise ClaimRejected(f"factorial-like argument larger than {_MAX_FACTORIAL}")


def _bounded_value(expr: sympy.Basic) -> float:
    """The float value of a numeric subexpression whose parts are already bounded.

    Raises:
        ClaimRejected: The value cannot be computed.
    """
    try:
        value = complex(sympy.N(expr, 15))
    except (TypeError, ValueError, OverflowError):
        raise ClaimRejected("numeric value that cannot be bounded") from None
    return abs(value)


def _parse_side(text: str) -> sympy.Expr:
    """Parse one side of a claim.

    Args:
        text: Screened sympy-syntax text.

    Returns:
        The evaluated expression.

    Raises:
        ClaimRejected: A parse failure or something that is not a scalar expression.
    """
    global_dict, local_dict = _namespaces()
    inert = {
        name: (sympy.Function(name) if name in _FUNCTION_NAMES or name in ("ln", "abs") else value)
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
        raise ClaimRejected(f"cannot parse {text!r}: {type(exc).__name__}: {exc}") from None
    if isinstance(raw, sympy.Basic):
        _guard_numbers(raw)
    try:
        value = parse_expr(
            text,
            local_dict=dict(local_dict),
            global_dict=dict(global_dict),
            transformations=_TRANSFORMATIONS,
        )
    except Exception as exc:
        raise ClaimRejected(f"cannot evaluate {text!r}: {type(exc).__name__}: {exc}") from None
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = sympy.sympify(value)
    if not isinstance(value, sympy.Expr):
        raise ClaimRejected(f"{text!r} is not a scalar expression ({type(value).__name__})")
    return value


def _result(claim: str, status: str, method: str, detail: str) -> dict[str, str]:
    """Build one result record."""
    return {"claim": claim, "status": status, "method": method, "detail": detail}


def _tolerance(*exprs: sympy.Expr) -> sympy.Float:
    """Relative tolerance for numeric comparison of the sides of a claim.

    1e-9 when a side holds an unevaluated integral, sum, limit, product or derivative (evaluated
    by quadrature or extrapolation), 1e-12 when a side holds a floating-point number (double
    precision), else 1e-20 (exact expressions evaluated at 40 digits).
    """
    if any(e.has(*_APPROXIMATE_TYPES) for e in exprs):
        return _TOL_APPROX
    if any(e.has(sympy.Float) for e in exprs):
        return _TOL_FLOAT
    return _TOL_EXACT


def _sample_points(symbols: list[sympy.Symbol]) -> Iterator[dict[sympy.Symbol, sympy.Rational]]:
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


def _finite_value(expr: sympy.Expr, subs: dict[sympy.Symbol, sympy.Rational]) -> Complex | None:
    """Evaluate an expression at a point as a complex number ``(re, im)``.

    Args:
        expr: The expression.
        subs: Values of its free symbols.

    Returns:
        The finite value at ``_DIGITS`` digits, or None when it is not finite (or cannot be
        evaluated).
    """
    try:
        value = expr.evalf(_DIGITS, subs=subs) if subs else expr.evalf(_DIGITS)
        if value.free_symbols or not value.is_number:
            return None
        re_part, im_part = value.as_real_imag()
        re_v = sympy.Float(re_part, _DIGITS)
        im_v = sympy.Float(im_part, _DIGITS)
    except Exception:
        return None
    if not (math.isfinite(float(re_v)) and math.isfinite(float(im_v))):
        return None
    return re_v, im_v


def _real_value(expr: sympy.Expr, subs: dict[sympy.Symbol, sympy.Rational]) -> sympy.Float | None:
    """Like :func:`_finite_value`, but None unless the value is real (for order relations)."""
    value = _finite_value(expr, subs)
    if value is None:
        return None
    re_v, im_v = value
    if abs(im_v) > sympy.Float("1e-25", _DIGITS) * max(1, abs(re_v)):
        return None
    return re_v


def _fmt_value(value: Complex) -> str:
    re_v, im_v = value
    if im_v == 0:
        return str(sympy.N(re_v, 15))
    return str(sympy.N(re_v + sympy.I * im_v, 15))


def _fmt_point(subs: dict[sympy.Symbol, sympy.Rational]) -> str:
    """Format a sample point as ``x = -7/3, y = 1/2``."""
    return ", ".join(f"{s} = {v}" for s, v in subs.items())


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
        return _result(claim, "unknown", "series", "O() term not at top level")
    weakest = orders[0]
    for other in orders[1:]:
        if other.variables != weakest.variables or other.point != weakest.point:
            return _result(claim, "unknown", "series", "O() terms at different points")
        if weakest.contains(other):
            continue
        if other.contains(weakest):
            weakest = other
        else:
            return _result(claim, "unknown", "series", "O() terms cannot be compared")
    difference = sympy.expand(lhs.removeO() - rhs.removeO()) + weakest
    rest = difference.removeO()
    if rest == 0 or sympy.simplify(rest) == 0:
        return _result(claim, "verified", "series", f"equal up to {weakest}")
    return _result(claim, "refuted", "series", f"sides differ by {rest} before {weakest}")


def _check_equality(claim: str, lhs: sympy.Expr, rhs: sympy.Expr) -> dict[str, str]:
    """Check ``lhs == rhs``.

    Args:
        claim: The claim text.
        lhs: Left side.
        rhs: Right side.

    Returns:
        The result record.
    """
    if lhs.has(sympy.nan) or rhs.has(sympy.nan):
        return _result(claim, "unknown", "symbolic", "a side is undefined (nan)")
    if lhs.has(sympy.Order) or rhs.has(sympy.Order):
        return _check_order_equality(claim, lhs, rhs)
    if lhs == rhs:
        shown = str(lhs) if len(str(lhs)) <= 80 else str(lhs)[:77] + "..."
        return _result(claim, "verified", "symbolic", f"both sides evaluate to {shown}")
    infinities = (sympy.oo, -sympy.oo, sympy.zoo)
    if lhs in infinities or rhs in infinities:
        if lhs.is_number and rhs.is_number and sympy.zoo not in (lhs, rhs):
            return _result(claim, "refuted", "exact", f"{lhs} != {rhs}")
        return _result(claim, "unknown", "symbolic", "infinite values that cannot be compared")
    difference = lhs - rhs
    if difference == 0:
        return _result(claim, "verified", "symbolic", "lhs - rhs == 0")
    if not difference.has(sympy.oo, -sympy.oo, sympy.zoo):
        simplified = sympy.simplify(difference)
        if simplified == 0:
            return _result(claim, "verified", "symbolic", "simplify(lhs - rhs) == 0")
    if difference.is_Rational:
        return _result(claim, "refuted", "exact", f"lhs - rhs == {difference}")
    tol = _tolerance(lhs, rhs)
    symbols = sorted(difference.free_symbols, key=lambda s: s.name)
    points = list(_sample_points(symbols)) if symbols else [{}]
    agreeing = 0
    for subs in points:
        # Compared as complex values: a side that leaves the reals where the other does not (e.g.
        # log(x**2) vs 2*log(x) at x = -1) is a counterexample, not a point to skip.
        left, right = _finite_value(lhs, subs), _finite_value(rhs, subs)
        if left is None or right is None:
            continue
        scale = max(sympy.Float(1, _DIGITS), *(abs(v) for v in (*left, *right)))
        if max(abs(left[0] - right[0]), abs(left[1] - right[1])) > tol * scale:
            where = f" at {_fmt_point(subs)}" if subs else ""
            return _result(
                claim,
                "refuted",
                "numeric",
                f"lhs = {_fmt_value(left)}, rhs = {_fmt_value(right)}{where}",
            )
        agreeing += 1
    if not symbols and agreeing:
        return _result(claim, "verified", "numeric",
                       f"sides agree within relative tolerance {float(tol):g} at {_DIGITS} digits")
    if agreeing >= _MIN_AGREEING_POINTS:
        return _result(
            claim,
            "verified",
            "numeric",
            f"simplify did not reach 0; sides agree at {agreeing} of {len(points)} sample points",
        )
    if agreeing:
        return _result(claim, "unknown", "numeric", f"only {agreeing} sample points evaluable")
    return _result(claim, "unknown", "numeric", "no sample point could be evaluated")


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
    difference = sympy.expand(difference) if sympy.count_ops(difference) <= 50 else difference
    facts = {
        ">": (difference.is_positive, difference.is_nonpositive),
        ">=": (difference.is_nonnegative, difference.is_negative),
        "<": (difference.is_negative, difference.is_nonnegative),
        "<=": (difference.is_nonpositive, difference.is_positive),
    }
    holds, fails = facts[op]
    if holds:
        return sympy.true
    if fails:
        return sympy.false
    return None


def _check_inequality(claim: str, lhs: sympy.Expr, rhs: sympy.Expr, op: str) -> dict[str, str]:
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
        return _result(claim, "unknown", "symbolic", "a side is undefined (nan)")
    symbols = sorted((lhs - rhs).free_symbols, key=lambda s: s.name)
    relation = _RELATIONS[op]
    if not symbols:
        if lhs.free_symbols or rhs.free_symbols:  # symbols that cancel: compare the difference
            lhs, rhs = lhs - rhs, sympy.Integer(0)
        try:
            decided = relation(lhs, rhs)
        except TypeError as exc:
            return _result(claim, "unknown", "exact", f"not comparable: {exc}")
        if decided is sympy.true:
            return _result(claim, "verified", "exact", "sympy evaluates the relation to True")
        if decided is sympy.false:
            return _result(claim, "refuted", "exact", "sympy evaluates the relation to False")
        left, right = _real_value(lhs, {}), _real_value(rhs, {})
        if left is not None and right is not None:
            margin = _tolerance(lhs, rhs) * max(sympy.Float(1, _DIGITS), abs(left), abs(right))
            if abs(left - right) > margin:
                holds = _PYTHON_RELATIONS[op](left, right)
                return _result(claim, "verified" if holds else "refuted", "numeric",
                               f"lhs = {sympy.N(left, 15)}, rhs = {sympy.N(right, 15)}")
        return _result(claim, "unknown", "exact", "sympy cannot decide the relation")
    real = {s: sympy.Dummy(s.name, real=True) for s in symbols}
    try:
        decided = _decide_sign(lhs.xreplace(real) - rhs.xreplace(real), op)
        if decided is None:
            decided = relation(lhs.xreplace(real), rhs.xreplace(real))
    except TypeError:
        decided = None
    if decided is sympy.true:
        return _result(claim, "verified", "symbolic", "holds for all real values of its symbols")
    if decided is sympy.false:
        return _result(claim, "refuted", "symbolic", "fails for all real values of its symbols")
    compare = _PYTHON_RELATIONS[op]
    evaluated = 0
    for subs in _sample_points(symbols):
        left, right = _real_value(lhs, subs), _real_value(rhs, subs)
        if left is None or right is None:
            continue
        evaluated += 1
        if not compare(left, right):
            return _result(
                claim,
                "refuted",
                "numeric",
                f"lhs = {sympy.N(left, 15)}, rhs = {sympy.N(right, 15)} at {_fmt_point(subs)}",
            )
    if evaluated:
        return _result(
            claim, "unknown", "numeric", f"holds at {evaluated} sampled points, not proven"
        )
    return _result(claim, "unknown", "numeric", "no sample point could be evaluated")


def check_claim(claim: str) -> dict[str, str]:
    """Check one claim in this process (no time limit).

    Args:
        claim: A relation in sympy syntax, e.g. ``"diff(x**3, x) == 3*x**2"``.

    Returns:
        ``{"claim", "status", "method", "detail"}`` with status ``verified``, ``refuted`` or
        ``unknown``.
    """
    if not isinstance(claim, str):
        return _result(str(claim), "unknown", "rejected", "claim is not a string")
    try:
        _screen(claim)
        lhs_text, op, rhs_text = _split_relation(claim)
        if op == "!=":
            return _result(claim, "unknown", "skipped", "'!=' claims are not checked")
        lhs, rhs = _parse_side(lhs_text), _parse_side(rhs_text)
    except ClaimRejected as exc:
        return _result(claim, "unknown", "rejected", str(exc))
    except RecursionError:
        return _result(claim, "unknown", "rejected", "expression nested too deeply")
    except Exception as exc:
        return _result(claim, "unknown", "rejected", f"{type(exc).__name__}: {exc}"[:300])
    try:
        if op == "==":
            return _check_equality(claim, lhs, rhs)
        return _check_inequality(claim, lhs, rhs, op)
    except RecursionError:
        return _result(claim, "unknown", "error", "recursion limit reached")
    except MemoryError:
        return _result(claim, "unknown", "error", "out of memory")
    except Exception as exc:
        return _result(claim, "unknown", "error", f"{type(exc).__name__}: {exc}"[:300])


def _check_in_child(claim: str, timeout: float) -> dict[str, str]:
    """Check one claim in a forked child process, killed after ``timeout`` seconds.

    Args:
        claim: The claim text.
        timeout: Seconds the check may take.

    Returns:
        The result record; ``unknown`` with ``timed out after N s`` on timeout.
    """
    import multiprocessing

    try:
        context = multiprocessing.get_context("fork")
    except ValueError:
        return check_claim(claim)
    sys.stdout.flush()
    sys.stderr.flush()
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(target=_child_main, args=(sender, claim), daemon=True)
    child.start()
    sender.close()
    try:
        if receiver.poll(timeout):
            try:
                result: dict[str, str] = receiver.recv()
                return result
            except EOFError:
                return _result(claim, "unknown", "error", "checker process died")
        return _result(claim, "unknown", "timeout", f"timed out after {timeout:g} s")
    finally:
        receiver.close()
        if child.is_alive():
            child.kill()
        child.join(5)


def _child_main(sender: Any, claim: str) -> None:
    """Entry point of the forked checker: limit memory, check, send the result."""
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (CHILD_MEMORY_BYTES, CHILD_MEMORY_BYTES))
    except (ImportError, ValueError, OSError):
        pass
    try:
        result = check_claim(claim)
    except MemoryError:
        result = _result(claim, "unknown", "error", "out of memory")
    sender.send(result)
    sender.close()


def check_claims(claims: list[str], timeout_per_claim: float = DEFAULT_TIMEOUT) -> list[dict[str, str]]:
    """Check claims one by one, each in a child process with a time limit.

    Args:
        claims: The claims.
        timeout_per_claim: Seconds each claim may take.

    Returns:
        One result record per claim, in order.
    """
    timeout = min(max(float(timeout_per_claim), 0.01), MAX_TIMEOUT)
    return [_check_in_child(claim, timeout) for claim in claims]


def main() -> int:
    """Read ``{"claims", "timeout_per_claim"}`` JSON on stdin, write ``{"results"}`` on stdout.

    Returns:
        0 on success, 2 when the input is not valid (an ``{"error"}`` object is written instead).
    """
    try:
        request = json.loads(sys.stdin.read())
        if not isinstance(request, dict):
            raise ValueError("input must be a JSON object")
        claims = request.get("claims", [])
        if not isinstance(claims, list):
            raise ValueError("'claims' must be a list")
        timeout = request.get("timeout_per_claim", DEFAULT_TIMEOUT)
        if isinstance(timeout, bool) or not isinstance(timeout, int | float):
            raise ValueError("'timeout_per_claim' must be a number")
        if not math.isfinite(timeout) or timeout <= 0:
            timeout = DEFAULT_TIMEOUT
    except ValueError as exc:
        json.dump({"results": [], "error": str(exc)}, sys.stdout)
        sys.stdout.write("\n")
        return 2
    texts = [c if isinstance(c, str) else json.dumps(c) for c in claims]
    results = [
        _check_in_child(text, float(timeout)) if isinstance(claim, str)
        else _result(text, "unknown", "rejected", "claim is not a string")
        for text, claim in zip(texts, claims, strict=True)
    ]
    json.dump({"results": results}, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
