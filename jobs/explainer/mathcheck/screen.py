"""The safety screen: what untrusted claim text may reach sympy's parser, and what a parsed claim may
evaluate.

sympy's parser calls ``eval``. Claims are screened before parsing (an allowlist of characters, no
attribute access, no ``__``, ``import``, ``lambda``..., every name either a single letter or in the
parser's namespace, at most ``MAX_CLAIM_CHARS`` characters) and the parser's global namespace has no
builtins. After an unevaluated parse, numeric powers with huge exponents and huge factorials are
rejected before evaluation.
"""

from __future__ import annotations

import re
from typing import Any

import sympy

MAX_CLAIM_CHARS = 500

_SAFE_CHARS = re.compile(r"^[A-Za-z0-9 \t+\-*/^().,=<>!]*$")
_ATTRIBUTE = re.compile(r"\.\s*[A-Za-z]")
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9]*")
_BANNED = ("__", "import", "lambda", "exec", "eval", "open", "getattr", "globals", "locals")

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
_MAX_EXPONENT = 10_000
_MAX_FACTORIAL = 100_000
_FACTORIALS = frozenset({"factorial", "factorial2", "binomial", "gamma", "product", "Product"})
# Functions whose numeric arguments are bounded by _MAX_FACTORIAL (as parsed from LaTeX).
_FACTORIAL_TYPES = (sympy.factorial, sympy.factorial2, sympy.binomial, sympy.gamma)


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


def _guard_numbers(node: sympy.Basic) -> None:
    """Reject numeric work whose evaluation could take unbounded time or memory.

    Walks an expression parsed with ``evaluate=False`` (sympy syntax: with every function name bound
    to an undefined function; LaTeX: as ``parse_latex`` builds it), bottom-up: a power of a number
    needs an exponent of at most ``_MAX_EXPONENT`` in absolute value, and factorial-like functions
    a numeric argument of at most ``_MAX_FACTORIAL``.

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
    elif (
        isinstance(node, sympy.core.function.AppliedUndef) and node.func.__name__ in _FACTORIALS
    ) or isinstance(node, _FACTORIAL_TYPES):
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
