r"""Check the mathematical claims of explainer scenes with sympy.

A claim is one relation between two expressions, in sympy syntax or in LaTeX.

* sympy syntax, for example ``"diff(x**2, x) == 2*x"`` or ``"integrate(x**2, (x, 0, 1)) == 1/3"``.
  Relations: ``==`` (a single ``=`` is read as ``==``), ``<``, ``<=``, ``>``, ``>=``; ``!=`` claims
  are not checked.
* LaTeX, for example ``r"\frac{d}{dx} x^3 = 3x^2"`` or ``r"\sum_{k=1}^{n} k = \frac{n(n+1)}{2}"``:
  any claim containing a backslash or a brace. The relation is split at the top level (outside
  braces, brackets and parentheses): ``=``, ``<``, ``>``, ``\le``/``\leq``, ``\ge``/``\geq``,
  ``\lt``, ``\gt`` (``\ne``/``\neq`` claims are not checked), exactly one. Each side is parsed with
  sympy's ``parse_latex`` (ANTLR backend, strict) and rewritten: ``e`` is Euler's number and ``i``
  the imaginary unit unless a sum, product, integral, limit or derivative binds them, ``\pi`` is
  pi, a one-letter "function" such as ``n(n+1)`` is a product, ``\max``/``\min``/``\Gamma`` are
  sympy's. Derivatives, integrals, sums, products and limits are then evaluated (like sympy
  syntax's ``diff``, ``integrate``...; a two-sided limit needs both sides to agree) and the sides
  go through the same checks as sympy syntax. Methods of LaTeX claims are prefixed ``latex:``.

Run as a subprocess by the engine (or as a standalone script: the module imports only the standard
library and sympy, with ``antlr4-python3-runtime`` for LaTeX)::

    python -m jobs.explainer.mathcheck < {"claims": [...], "timeout_per_claim": 10}
    python mathcheck.py < {"claims": [...], "timeout_per_claim": 10}

It writes ``{"results": [{"claim", "status", "method", "detail"}, ...]}`` on stdout and exits 0. Each
claim, parsing included, is checked in a forked child process that is killed when its time limit
passes; at most ``MAX_WORKERS`` children run at once.

Statuses:

* ``verified``: sympy proves it (``simplify(lhs - rhs) == 0``, an exact comparison, a decision
  under real assumptions, interval arithmetic over all reals for order relations built from
  ``+ * sin cos exp`` and integer powers, or for an order relation in one symbol a study of the
  difference on its real domain: critical points, zeros of ``Abs`` arguments and limits at the
  ends, over one period when it is periodic), or an equality agrees at every sampled point (at
  least 3 evaluable points out of 12, symbols ranging over negative and non-integer reals).
* ``refuted``: a counterexample: an exact comparison fails, a sampled point where both sides are
  finite (complex) numbers that differ beyond the tolerance, or (order relations in one symbol) a
  critical point or domain end where the relation fails.
* ``unknown``: anything else (rejected text, parse errors, undecided inequalities, timeouts).

Symbols range over the real numbers. For equalities, sides are compared as complex values, so a point
where one side leaves the reals and the other does not is a counterexample (``log(x**2) == 2*log(x)``
fails at x = -1); only points where a side is infinite or undefined are skipped. Order relations
skip points where a side is not real. ``O(...)`` terms compare series
up to the weaker order. The numeric tolerance is relative: 1e-20 at 40 digits for exact expressions,
1e-12 when a side holds a float (double precision), 1e-9 when a side holds an unevaluated integral,
sum, limit, product or derivative (which sympy evaluates by quadrature or extrapolation; strictly: a
point where it cannot reach the precision is skipped, never a counterexample).

Symbolic work gets a share of each claim's time limit in the checker child (``EVALUATE_SHARE`` to
evaluate the sides, ``SIMPLIFY_SHARE`` to simplify an equality, ``DECIDE_SHARE`` to decide an
inequality); past it, sympy is interrupted and e.g. an integral it cannot do in time stays
unevaluated and is compared numerically, so hard claims end ``verified``/``refuted`` by numbers
rather than ``timeout``.

Indefinite integrals hold up to a constant: when the claim's indefinite integrals all integrate over
one variable ``x`` (none nested in another), both sides are differentiated with respect to ``x``
(real) and compared, so ``integrate(x**2, x) == x**3/3 + C`` holds. Other claims with indefinite
integrals are never refuted, and order relations with them are not checked.

Safety: sympy's parser calls ``eval``. Claims are screened before parsing: a short allowlist of
characters (no quotes, brackets, underscores, ``;`` or ``:``), no attribute access, no ``__``,
``import``, ``lambda``, every name either a single letter or in an allowlist of sympy functions and
constants, at most 500 characters; the parser's global namespace has no builtins. LaTeX is not
evaluated with ``eval``, but is screened too: at most 500 characters, an allowlist of characters and
of commands (no ``\input``, ``\def``, ``\newcommand``...; unknown commands are rejected rather than
read as products of letters), no digits separated only by spaces (which the parser would join) and
no multi-digit unbraced scripts such as ``x^12``; after parsing, every symbol must be a letter
(optionally with a subscript) or a Greek letter. Numeric powers with huge exponents and huge
factorials are rejected before evaluation. Time limits (a killed child process per claim) and a
2 GiB address-space limit only apply in the subprocess entry point and :func:`check_claims`;
:func:`check_claim` itself has no time limit.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import random
import re
import signal
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

import sympy
from sympy.parsing.sympy_parser import (
    convert_xor,
    implicit_multiplication,
    parse_expr,
    standard_transformations,
)

__all__ = [
    "DEFAULT_TIMEOUT",
    "MAX_CLAIM_CHARS",
    "MAX_WORKERS",
    "check_claim",
    "check_claims",
    "is_latex",
    "main",
]

DEFAULT_TIMEOUT = 10.0
MAX_CLAIM_CHARS = 500
MAX_TIMEOUT = 600.0
MAX_WORKERS = 2
CHILD_MEMORY_BYTES = 2 * 1024**3
# Shares of a claim's time limit (from the start of its child) for symbolic work: evaluating the
# sides (integrate, doit...; past it they stay unevaluated, Integral, Sum..., and are compared
# numerically), simplifying an equality's difference, and deciding an inequality symbolically. The
# rest is left for numeric sampling.
EVALUATE_SHARE = 0.5
SIMPLIFY_SHARE = 0.75
DECIDE_SHARE = 0.9

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
_UNEVALUATED_CALCULUS: dict[str, Any] = {
    "integrate": sympy.Integral,
    "summation": sympy.Sum,
    "product": sympy.Product,
    "limit": sympy.Limit,
    "diff": sympy.Derivative,
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
# Functions whose numeric arguments are bounded by _MAX_FACTORIAL (as parsed from LaTeX).
_FACTORIAL_TYPES = (sympy.factorial, sympy.factorial2, sympy.binomial, sympy.gamma)
# Functions where a difference may have a kink or jump: no critical-point study.
_NON_SMOOTH = (
    sympy.Abs, sympy.sign, sympy.floor, sympy.ceiling, sympy.Piecewise, sympy.Max, sympy.Min,
    sympy.Heaviside, sympy.frac, sympy.re, sympy.im, sympy.arg, sympy.DiracDelta,
)

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

# LaTeX claims.
_LATEX_SAFE_CHARS = re.compile(r"^[A-Za-z0-9 \t\r\n+\-*/^_=<>!().,|{}\[\]\\]*$")
_LATEX_COMMAND = re.compile(r"\\([A-Za-z]+|[^A-Za-z]?)")
_LATEX_DROPPED = re.compile(
    r"\\(?:left|right|bigl|bigr|Bigl|Bigr|biggl|biggr|big|Big|bigg|Bigg)(?![A-Za-z])\s*\.?"
    r"|\\(?:displaystyle|textstyle|limits|nolimits)(?![A-Za-z])"
)
_LATEX_SPACES = re.compile(r"\\(?:[,;:! ]|q?quad(?![A-Za-z]))")
_LATEX_ROMAN = re.compile(r"\\(?:mathrm|mathit|operatorname)\s*\{\s*([A-Za-z])\s*\}")
_LATEX_LONG_SCRIPT = re.compile(r"[\^_]\s*[0-9][0-9]")
_LATEX_SHORT_SCRIPT = re.compile(r"([\^_])\s*([A-Za-z0-9])")
_LATEX_SPACED_DIGITS = re.compile(r"[0-9.]\s+[0-9]")
_LATEX_RELATIONS = {
    "leq": "<=", "le": "<=", "leqslant": "<=", "geq": ">=", "ge": ">=", "geqslant": ">=",
    "lt": "<", "gt": ">", "neq": "!=", "ne": "!=",
}
_LATEX_BANNED = frozenset(
    "input include write def edef gdef xdef let newcommand renewcommand providecommand catcode "
    "csname endcsname immediate openout openin read usepackage documentclass begin end special "
    "expandafter makeatletter directlua".split()
)
_LATEX_GREEK = frozenset(
    "alpha beta gamma delta epsilon varepsilon zeta eta theta vartheta iota kappa lambda mu nu xi "
    "omicron rho varrho sigma varsigma tau upsilon phi varphi chi psi omega "
    "Gamma Delta Theta Lambda Xi Pi Sigma Upsilon Phi Psi Omega".split()
)
_LATEX_COMMANDS = frozenset(
    "frac dfrac tfrac binom dbinom tbinom sqrt cdot times div int sum prod lim to infty partial "
    "lfloor rfloor lceil rceil exp log ln sin cos tan cot sec csc arcsin arccos arctan arccot "
    "arcsec arccsc sinh cosh tanh arsinh arcosh artanh pi max min".split()
) | _LATEX_GREEK | frozenset(_LATEX_RELATIONS)
# Undefined functions parse_latex leaves applied, and the sympy functions they name.
_LATEX_FUNCTIONS: dict[str, Any] = {"max": sympy.Max, "min": sympy.Min, "Gamma": sympy.gamma}
_LATEX_SYMBOL = re.compile(r"^([A-Za-z]+)(?:_\{[A-Za-z0-9*+\- ]+\})?$")


class ClaimRejected(ValueError):
    """A claim that is not checked: unsafe text, an unsupported relation or a parse failure."""


class _BudgetExceeded(BaseException):
    """Symbolic work ran past its share of the time limit (a BaseException, so that sympy's
    own ``except Exception`` blocks do not swallow it)."""


# (start, time limit) of the claim checked in this process (time.monotonic()); set only in a forked
# checker child.
_child_clock: tuple[float, float] | None = None


@contextlib.contextmanager
def _budget(share: float) -> Iterator[None]:
    """Interrupt the block with :class:`_BudgetExceeded` once ``share`` of the claim's time limit
    has passed.

    A no-op outside a checker child (:func:`check_claim` in the caller's process) or without
    ``signal.setitimer``.
    """
    clock = _child_clock
    if clock is None or not hasattr(signal, "setitimer"):
        yield
        return
    deadline = clock[0] + share * clock[1]
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise _BudgetExceeded

    def interrupt(signum: int, frame: Any) -> None:
        raise _BudgetExceeded

    previous = signal.signal(signal.SIGALRM, interrupt)
    signal.setitimer(signal.ITIMER_REAL, remaining)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


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


def _parse_side(text: str) -> tuple[sympy.Expr, sympy.Basic]:
    """Parse one side of a claim.

    Args:
        text: Screened sympy-syntax text.

    Returns:
        ``(value, inert)``: the evaluated expression, and the unevaluated one with every function
        name bound to an undefined function (where indefinite integrals are found).

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
    if not isinstance(raw, sympy.Basic):
        raise ClaimRejected(f"{text!r} is not a scalar expression ({type(raw).__name__})")
    _guard_numbers(raw)
    try:
        try:
            with _budget(EVALUATE_SHARE):
                value = parse_expr(
                    text,
                    local_dict=dict(local_dict),
                    global_dict=dict(global_dict),
                    transformations=_TRANSFORMATIONS,
                )
        except _BudgetExceeded:
            # Too slow (integrate() without a closed form...): keep integrals, sums, products,
            # limits and derivatives unevaluated, to be compared numerically.
            value = parse_expr(
                text,
                local_dict={**local_dict, **_UNEVALUATED_CALCULUS},
                global_dict=dict(global_dict),
                transformations=_TRANSFORMATIONS,
            )
    except Exception as exc:
        raise ClaimRejected(f"cannot evaluate {text!r}: {type(exc).__name__}: {exc}") from None
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = sympy.sympify(value)
    if not isinstance(value, sympy.Expr):
        raise ClaimRejected(f"{text!r} is not a scalar expression ({type(value).__name__})")
    return value, raw


def is_latex(claim: str) -> bool:
    """Whether a claim is read as LaTeX: it contains a backslash or a brace."""
    return "\\" in claim or "{" in claim


def _normalize_latex(claim: str) -> str:
    """Screen a LaTeX claim and normalise it for ``parse_latex``.

    Strips ``$`` delimiters around the whole claim, drops sizing and spacing commands
    (``\\left``, ``\\,``, ``\\displaystyle``...), reads ``\\mathrm{d}`` as ``d`` and braces
    one-character scripts (``x^2`` becomes ``x^{2}``, so ``\\int_0^1 2x`` keeps its ``2``).

    Args:
        claim: The claim text.

    Returns:
        The normalised text.

    Raises:
        ClaimRejected: Why the claim is not parsed: too long, characters or commands outside the
            allowlist, or notation ``parse_latex`` would misread.
    """
    if len(claim) > MAX_CLAIM_CHARS:
        raise ClaimRejected(f"claim longer than {MAX_CLAIM_CHARS} characters")
    text = claim.strip()
    for delimiter in ("$$", "$"):
        if len(text) > 2 * len(delimiter) and text.startswith(delimiter) and text.endswith(delimiter):
            text = text[len(delimiter) : -len(delimiter)].strip()
            break
    if not text:
        raise ClaimRejected("empty claim")
    if not _LATEX_SAFE_CHARS.match(text):
        bad = sorted({ch for ch in text if not _LATEX_SAFE_CHARS.match(ch)})
        raise ClaimRejected(f"claim contains characters outside the LaTeX allowlist: {''.join(bad)!r}")
    if "\\\\" in text:
        raise ClaimRejected("claim contains a line break (\\\\)")
    for name in _LATEX_COMMAND.findall(text):
        if name in _LATEX_BANNED:
            raise ClaimRejected(f"LaTeX command \\{name} is not allowed")
    text = _LATEX_ROMAN.sub(r"\1", text)
    text = _LATEX_DROPPED.sub(" ", text)
    text = _LATEX_SPACES.sub(" ", text)
    for name in _LATEX_COMMAND.findall(text):
        if not name:
            raise ClaimRejected("claim ends with a backslash")
        if name not in _LATEX_COMMANDS:
            raise ClaimRejected(f"unsupported LaTeX command \\{name}")
    if _LATEX_LONG_SCRIPT.search(text):
        raise ClaimRejected("ambiguous unbraced script such as x^12: write x^{12}")
    text = _LATEX_SHORT_SCRIPT.sub(r"\1{\2}", text)
    if _LATEX_SPACED_DIGITS.search(text):
        raise ClaimRejected("digits separated only by spaces (the parser would join them)")
    return text


def _split_latex_relation(text: str) -> tuple[str, str, str]:
    """Split a normalised LaTeX claim at its single top-level relation.

    Relations inside braces, brackets or parentheses (the ``=`` of ``\\sum_{k=1}``) are left to
    the parser.

    Args:
        text: The normalised claim.

    Returns:
        ``(lhs, op, rhs)`` with ``op`` one of ``== < <= > >= !=``.

    Raises:
        ClaimRejected: No relation, more than one, an ambiguous ``!=`` or unbalanced brackets.
    """
    found: list[tuple[int, int, str]] = []
    depth = 0
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\\":
            match = _LATEX_COMMAND.match(text, i)
            end = match.end() if match else i + 1
            name = match.group(1) if match else ""
            if depth == 0 and name in _LATEX_RELATIONS:
                found.append((i, end, _LATEX_RELATIONS[name]))
            i = max(end, i + 1)
            continue
        if ch in "{([":
            depth += 1
        elif ch in "})]":
            depth -= 1
            if depth < 0:
                raise ClaimRejected("unbalanced braces, brackets or parentheses")
        elif depth == 0 and ch == "!" and text[i + 1 : i + 2] == "=":
            raise ClaimRejected("'!=' is ambiguous in LaTeX (factorial or not equal): write \\neq or n! =")
        elif depth == 0 and ch in "=<>":
            two = text[i : i + 2]
            if two in ("==", "<=", ">="):
                found.append((i, i + 2, "==" if two == "==" else two))
                i += 2
                continue
            found.append((i, i + 1, "==" if ch == "=" else ch))
        i += 1
    if depth != 0:
        raise ClaimRejected("unbalanced braces, brackets or parentheses")
    if not found:
        raise ClaimRejected("no relation (=, <, \\le, >, \\ge) at top level")
    if len(found) > 1:
        raise ClaimRejected("more than one relation at top level")
    start, end, op = found[0]
    lhs, rhs = text[:start].strip(), text[end:].strip()
    if not lhs or not rhs:
        raise ClaimRejected("a side of the relation is empty")
    return lhs, op, rhs


def _parse_latex_side(text: str) -> sympy.Expr:
    """Parse one side of a LaTeX claim with ``parse_latex`` (strict), unevaluated.

    Raises:
        ClaimRejected: A parse failure or something that is not a scalar expression.
    """
    try:
        from sympy.parsing.latex import parse_latex
    except ImportError as exc:  # pragma: no cover - sympy always ships it
        raise ClaimRejected(f"LaTeX parsing unavailable: {exc}") from None
    try:
        raw = parse_latex(text, strict=True)
    except ImportError as exc:
        raise ClaimRejected(f"LaTeX parsing unavailable (antlr4-python3-runtime 4.11): {exc}") from None
    except Exception as exc:
        lines = str(exc).strip().splitlines()
        reason = lines[0] if lines else type(exc).__name__
        raise ClaimRejected(f"cannot parse LaTeX {text!r}: {reason}") from None
    if not isinstance(raw, sympy.Expr):
        raise ClaimRejected(f"LaTeX {text!r} is not a scalar expression ({type(raw).__name__})")
    return raw


def _latex_bound_names(*exprs: sympy.Basic) -> set[str]:
    """Names of the variables that sums, products, integrals, limits and derivatives bind."""
    names: set[str] = set()
    for expr in exprs:
        for node in sympy.preorder_traversal(expr):
            if isinstance(node, sympy.Sum | sympy.Product | sympy.Integral):
                names.update(str(limit[0]) for limit in node.limits)
            elif isinstance(node, sympy.Limit):
                names.add(str(node.args[1]))
            elif isinstance(node, sympy.Derivative):
                names.update(str(v) for v in node.variables)
    return names


def _check_latex_symbols(expr: sympy.Basic) -> None:
    """Reject symbols ``parse_latex`` makes of notation it does not know (``dx`` of ``d^2/dx^2``).

    Raises:
        ClaimRejected: A symbol that is not a letter or a Greek letter, with an optional subscript.
    """
    for symbol in expr.atoms(sympy.Symbol):
        name = symbol.name
        if name in ("+", "-", "+-"):  # the direction of a limit
            continue
        match = _LATEX_SYMBOL.match(name)
        base = match.group(1) if match else ""
        if not (len(base) == 1 or base in _LATEX_GREEK or base == "pi"):
            raise ClaimRejected(f"unsupported LaTeX notation (read as the symbol {name!r})")


def _latex_rewrite(node: sympy.Basic, constants: dict[str, sympy.Basic]) -> sympy.Basic:
    """Rewrite a parsed LaTeX expression, unevaluated (call inside ``sympy.evaluate(False)``).

    Symbols named in ``constants`` become those constants; ``n(n+1)`` (an undefined one-letter
    function) becomes the product ``n*(n+1)``; ``max``, ``min`` and ``Gamma`` become sympy's.

    Raises:
        ClaimRejected: An undefined function of another name or with several arguments.
    """
    if isinstance(node, sympy.Symbol):
        return constants.get(node.name, node)
    if not node.args:
        return node
    args = [_latex_rewrite(arg, constants) for arg in node.args]
    if isinstance(node, sympy.core.function.AppliedUndef):
        name = node.func.__name__
        if name in _LATEX_FUNCTIONS:
            return _LATEX_FUNCTIONS[name](*args)
        if len(name) == 1 and len(args) == 1:
            return sympy.Mul(constants.get(name, sympy.Symbol(name)), args[0])
        raise ClaimRejected(f"unsupported function {name}(...) in LaTeX")
    return node.func(*args)


def _rebuild(node: sympy.Basic) -> sympy.Basic:
    """Rebuild an unevaluated expression bottom-up with evaluation, without ``doit``."""
    if not node.args:
        return node
    return node.func(*[_rebuild(arg) for arg in node.args])


def _parse_latex_sides(lhs_text: str, rhs_text: str) -> tuple[sympy.Expr, sympy.Expr, tuple[Any, Any]]:
    """Parse, rewrite, guard and evaluate both sides of a LaTeX claim.

    Args:
        lhs_text: Left side, normalised LaTeX.
        rhs_text: Right side, normalised LaTeX.

    Returns:
        ``(lhs, rhs, (lhs_inert, rhs_inert))``: the evaluated sides (derivatives, integrals, sums,
        products and limits done where sympy can), and the rewritten unevaluated ones.

    Raises:
        ClaimRejected: A parse failure, unsupported notation or an unbounded numeric computation.
    """
    raws = [_parse_latex_side(lhs_text), _parse_latex_side(rhs_text)]
    for raw in raws:
        _check_latex_symbols(raw)
    bound = _latex_bound_names(*raws)
    constants = {
        name: value
        for name, value in (("e", sympy.E), ("i", sympy.I), ("pi", sympy.pi))
        if name not in bound
    }
    with sympy.evaluate(False):
        inert = [_latex_rewrite(raw, constants) for raw in raws]
    values: list[sympy.Expr] = []
    for text, expr in zip((lhs_text, rhs_text), inert, strict=True):
        _guard_numbers(expr)
        try:
            with _budget(EVALUATE_SHARE):
                value = expr.doit()
        except (RecursionError, MemoryError):
            raise
        except (Exception, _BudgetExceeded):
            # Too slow, or e.g. a two-sided limit whose sides differ: left unevaluated.
            value = _rebuild(expr)
        if not isinstance(value, sympy.Expr):
            raise ClaimRejected(f"LaTeX {text!r} is not a scalar expression ({type(value).__name__})")
        values.append(value)
    return values[0], values[1], (inert[0], inert[1])


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


def _indefinite_integrals(node: sympy.Basic, inside: bool = False) -> list[sympy.Symbol | None]:
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
        found.extend(_indefinite_integrals(arg, inside or here))
    return found


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
        evaluated). An expression holding an unevaluated integral, sum, limit, product or
        derivative is evaluated strictly: None when quadrature or extrapolation cannot reach the
        precision (an oscillating or divergent integral gives a meaningless value otherwise).
    """
    strict = expr.has(*_APPROXIMATE_TYPES)
    try:
        if strict:  # evalf(subs=...) leaves an integral over a free symbol unevaluated
            value = (expr.subs(subs) if subs else expr).evalf(_DIGITS, strict=True)
        elif subs:
            value = expr.evalf(_DIGITS, subs=subs)
        else:
            value = expr.evalf(_DIGITS)
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
        try:
            with _budget(SIMPLIFY_SHARE):
                simplified = sympy.simplify(difference)
        except _BudgetExceeded:
            simplified = difference
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
        with _budget(DECIDE_SHARE):
            decided = _decide_sign(lhs.xreplace(real) - rhs.xreplace(real), op)
            if decided is None:
                decided = relation(lhs.xreplace(real), rhs.xreplace(real))
    except (Exception, _BudgetExceeded):  # not comparable (TypeError), or sympy gave up
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
    difference = lhs.xreplace(real) - rhs.xreplace(real)
    try:
        with _budget(DECIDE_SHARE):
            if _bound_by_intervals(difference, list(real.values()), op):
                return _result(claim, "verified", "intervals", "interval arithmetic over all real values")
            decision = _study_univariate(difference, real[symbols[0]], op) if len(symbols) == 1 else None
    except (Exception, _BudgetExceeded):  # sympy could not study it (NotImplementedError...)
        decision = None
    if decision is not None:
        status, detail = decision
        return _result(claim, status, "analysis", detail)
    if evaluated:
        return _result(
            claim, "unknown", "numeric", f"holds at {evaluated} sampled points, not proven"
        )
    return _result(claim, "unknown", "numeric", "no sample point could be evaluated")


def _sign(value: sympy.Expr) -> int | None:
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
    number = _real_value(value, {})
    if number is None:
        return None
    if abs(number) > sympy.Float("1e-25", _DIGITS):
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
    """Whether :func:`_study_univariate` may study ``f``: only functions in ``_ANALYSABLE``, and no
    partial function (``log``, ``asin``..., a power other than a positive integer one of a
    non-constant base) of an expression holding a periodic one."""
    for node in sympy.preorder_traversal(f):
        if isinstance(node, sympy.Function) and not isinstance(node, _ANALYSABLE):
            return False
        if not isinstance(node, sympy.Expr) or node.is_Atom:
            continue
        if node.has(*_APPROXIMATE_TYPES, sympy.Piecewise):
            return False
        partial = isinstance(node, _PARTIAL) or (
            isinstance(node, sympy.Pow)
            and not (node.exp.is_Integer and node.exp > 0)
            and not (node.base.is_number and node.base.is_positive)
        )
        if partial and any(arg.has(*_PERIODIC) for arg in node.args):
            return False
    return True


def _study_univariate(f: sympy.Expr, x: sympy.Symbol, op: str) -> tuple[str, str] | None:
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
        if any(_real_value(f, {x: p}) is None for p in inside):
            return None  # e.g. x**(1/3), complex for x < 0 although "continuous"
        smooth = f
        for node in f.atoms(sympy.Abs):
            sign = _sign(node.args[0].subs(x, inside[0]))
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
        sign = _sign(value)
        if sign is None:
            return None
        if sign < 0:
            return "refuted", f"lhs - rhs tends to {value} as {where}"
    for point, value in attained:
        sign = _sign(value)
        if sign is None:
            return None
        if sign < 0 or (strict and sign == 0):
            shown = "0" if sign == 0 else str(sympy.N(value, 15))
            return "refuted", f"lhs - rhs = {shown} at {x.name} = {point}"
    where = ", ".join(sorted({str(p) for p, _ in attained})) or "none"
    over = f"one period {region}" if region != domain else f"the real domain {domain}"
    return "verified", f"holds on {over}: extreme points ({where}) and limits at the ends checked"


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
    sign = _sign(bound.min)
    return sign is not None and (sign > 0 or (sign == 0 and op == ">="))


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
            lhs_text, op, rhs_text = _split_latex_relation(_normalize_latex(claim))
        else:
            _screen(claim)
            lhs_text, op, rhs_text = _split_relation(claim)
        if op == "!=":
            return _result(claim, "unknown", "skipped", "'!=' claims are not checked")
        if latex:
            lhs, rhs, inert = _parse_latex_sides(lhs_text, rhs_text)
        else:
            (lhs, lhs_inert), (rhs, rhs_inert) = _parse_side(lhs_text), _parse_side(rhs_text)
            inert = (lhs_inert, rhs_inert)
        indefinite = _indefinite_integrals(inert[0]) + _indefinite_integrals(inert[1])
    except ClaimRejected as exc:
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


def _plain_integrals(expr: sympy.Expr) -> sympy.Expr:
    """Replace the ``NonElementaryIntegral`` that ``integrate`` may return (which ``evalf`` leaves
    unevaluated) by a plain ``Integral``."""
    from sympy.integrals.risch import NonElementaryIntegral

    found = expr.atoms(NonElementaryIntegral)
    if not found:
        return expr
    return expr.xreplace({node: sympy.Integral(*node.args) for node in found})


def _check_antiderivative(claim: str, lhs: sympy.Expr, rhs: sympy.Expr, x: sympy.Symbol) -> dict[str, str]:
    """Check an equality with indefinite integrals in ``x`` up to a constant: compare the derivatives
    of both sides with respect to ``x`` (a real variable)."""
    real = sympy.Dummy(x.name, real=True)
    derivatives = [sympy.diff(side.xreplace({x: real}), real).xreplace({real: x}) for side in (lhs, rhs)]
    result = _check_equality(claim, derivatives[0], derivatives[1])
    result["detail"] = f"indefinite integral, up to a constant: d/d{x} of both sides: {result['detail']}"
    return result


def _stop_child(receiver: Any, child: Any) -> None:
    """Close a child's pipe, kill it if it still runs, and reap it."""
    receiver.close()
    if child.is_alive():
        child.kill()
    child.join(5)


def _run_children(claims: list[str], timeout: float, workers: int) -> list[dict[str, str]]:
    """Check claims in forked child processes, at most ``workers`` at once, each killed when its
    time limit passes.

    Args:
        claims: The claims.
        timeout: Seconds each claim may take, from the start of its child.
        workers: How many children may run at once (at least 1).

    Returns:
        One result record per claim, in order; ``unknown`` with ``timed out after N s`` on timeout.
    """
    import multiprocessing
    from multiprocessing.connection import wait

    try:
        context = multiprocessing.get_context("fork")
    except ValueError:
        return [check_claim(claim) for claim in claims]
    results: dict[int, dict[str, str]] = {}
    queue = list(reversed(range(len(claims))))
    running: dict[Any, tuple[int, Any, float]] = {}  # receiver -> (index, child, deadline)
    try:
        while queue or running:
            while queue and len(running) < max(1, workers):
                index = queue.pop()
                sys.stdout.flush()
                sys.stderr.flush()
                receiver, sender = context.Pipe(duplex=False)
                child = context.Process(
                    target=_child_main, args=(sender, claims[index], timeout), daemon=True
                )
                child.start()
                sender.close()
                running[receiver] = (index, child, time.monotonic() + timeout)
            nearest = min(deadline for _, _, deadline in running.values())
            ready = wait(list(running), timeout=max(0.0, nearest - time.monotonic()))
            now = time.monotonic()
            for receiver, (index, child, deadline) in list(running.items()):
                claim = claims[index]
                if receiver in ready:
                    try:
                        results[index] = receiver.recv()
                    except (EOFError, OSError):
                        results[index] = _result(claim, "unknown", "error", "checker process died")
                elif now >= deadline:
                    results[index] = _result(claim, "unknown", "timeout", f"timed out after {timeout:g} s")
                else:
                    continue
                del running[receiver]
                _stop_child(receiver, child)
    finally:
        for receiver, (_, child, _) in running.items():
            _stop_child(receiver, child)
    return [results[index] for index in range(len(claims))]


def _check_in_child(claim: str, timeout: float) -> dict[str, str]:
    """Check one claim in a forked child process, killed after ``timeout`` seconds."""
    return _run_children([claim], timeout, 1)[0]


def _child_main(sender: Any, claim: str, timeout: float) -> None:
    """Entry point of the forked checker: limit memory and symbolic evaluation time, check, send
    the result."""
    global _child_clock
    _child_clock = (time.monotonic(), timeout)
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


def _available_cpus() -> int:
    """CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _warm_up(claims: list[str]) -> None:
    """Load lazily loaded parsers once in the parent, so that forked children start warm.

    Only ``parse_latex`` of a fixed one-letter text: nothing from the claims runs here.
    """
    if not any(isinstance(claim, str) and is_latex(claim) for claim in claims):
        return
    try:
        from sympy.parsing.latex import parse_latex

        parse_latex("x", strict=True)
    except Exception:
        pass  # the children report the failure per claim


def check_claims(
    claims: list[str], timeout_per_claim: float = DEFAULT_TIMEOUT, max_workers: int = MAX_WORKERS
) -> list[dict[str, str]]:
    """Check claims, each in a child process with a time limit (parsing included).

    Args:
        claims: The claims.
        timeout_per_claim: Seconds each claim may take.
        max_workers: How many children may run at once (capped by the available CPUs).

    Returns:
        One result record per claim, in order.
    """
    timeout = min(max(float(timeout_per_claim), 0.01), MAX_TIMEOUT)
    workers = max(1, min(int(max_workers), _available_cpus()))
    _warm_up(claims)
    return _run_children(list(claims), timeout, workers)


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
    strings = [claim for claim in claims if isinstance(claim, str)]
    checked = iter(check_claims(strings, float(timeout)))
    results = [
        next(checked) if isinstance(claim, str)
        else _result(json.dumps(claim), "unknown", "rejected", "claim is not a string")
        for claim in claims
    ]
    json.dump({"results": results}, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
