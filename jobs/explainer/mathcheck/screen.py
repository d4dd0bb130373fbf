"""The safety screen of untrusted math text: what may reach sympy's parser, and what a parsed
expression may evaluate.

sympy's ``parse_expr`` calls ``eval``, and evaluating a small text can take unbounded time or
memory (``2**(2**(2**32))``). So untrusted text passes two gates, each a function of rules given as
data:

* :func:`screen_text` before parsing (:class:`TextRules`: length, banned words, a character
  allowlist, no attribute access, forbidden patterns, every name in an allowlist); the parser's
  global namespace (:func:`parser_globals`) has no builtins;
* :func:`guard_tree` on the tree parsed with ``evaluate=False``, before it is evaluated
  (:class:`TreeRules`: size, depth, literals, numeric exponents, factorial-like arguments).

Both raise :class:`Rejected` with the reason. Two rule sets are defined here: the claim checker's
(``CLAIM_TEXT``, ``CLAIM_TREE``, with its namespace :func:`claim_namespaces`) and the offline
model's topic parser's (``TOPIC_TEXT``, ``TOPIC_TEXT_WITH_OO``, ``TOPIC_TREE``, with
:func:`topic_namespace`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

import sympy

MAX_CLAIM_CHARS = 500

# A dot before a letter is attribute access in Python (x.__class__); digits may follow a dot (0.5).
_ATTRIBUTE = re.compile(r"\.\s*[A-Za-z_]")

# sympy functions and constants a claim may name (names longer than one letter).
FUNCTION_NAMES = (
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


class Rejected(ValueError):
    """Text or an expression that is not let through (the message is the reason): unsafe text, an
    unbounded computation, or, in the claim checker, an unsupported relation or a parse failure."""


@dataclass(frozen=True)
class TextRules:
    """What text may be given to sympy's parser.

    Attributes:
        max_chars: Longest text.
        chars: The characters allowed, as a pattern matched from the start of the text.
        names: Names longer than one letter that may appear.
        name: What a name is (each match is checked against ``names``).
        capitals: Single capital letters that may appear; None for all of them.
        banned_words: Substrings rejected anywhere, in any case.
        forbidden: ``(pattern, reason)`` pairs: text where the pattern is found is rejected.
        noun: What the text is, in messages.
    """

    max_chars: int
    chars: re.Pattern[str]
    names: frozenset[str]
    name: re.Pattern[str] = re.compile(r"[A-Za-z][A-Za-z0-9]*")
    capitals: frozenset[str] | None = None
    banned_words: tuple[str, ...] = ()
    forbidden: tuple[tuple[re.Pattern[str], str], ...] = ()
    noun: str = "text"


@dataclass(frozen=True)
class TreeRules:
    """What an expression parsed with ``evaluate=False`` may hold before it is evaluated.

    Attributes:
        max_exponent: Largest absolute value of a numeric exponent.
        numeric_base_only: Bound only powers of a number (``2**100000``), not of a symbol.
        exempt_bases: Bases whose powers stay small whatever the exponent (0, 1, -1).
        real_exponent: A numeric exponent must be real.
        max_factorial_argument: Largest absolute value of a numeric argument of a factorial-like
            function; None for no bound.
        factorial_functions: Names of undefined functions that are factorial-like (an inert parse
            binds every function name to an undefined function).
        factorial_types: sympy classes that are factorial-like.
        max_nodes: Most nodes in the tree; None for no bound.
        max_depth: Deepest nesting (the root is at depth 0); None for no bound.
        max_literal: Largest absolute value of an integer or float literal; None for no bound.
        max_power_digits: Most decimal digits a power of a number may have (its exponent times
            the base's digits: ``(10**10000)**10000`` has a small exponent and a hundred million
            digits); None for no bound.
    """

    max_exponent: float
    numeric_base_only: bool = False
    exempt_bases: tuple[sympy.Basic, ...] = ()
    real_exponent: bool = False
    max_factorial_argument: float | None = None
    factorial_functions: frozenset[str] = frozenset()
    factorial_types: tuple[type[sympy.Basic], ...] = ()
    max_nodes: int | None = None
    max_depth: int | None = None
    max_literal: float | None = None
    max_power_digits: float | None = None


def screen_text(text: str, rules: TextRules) -> None:
    """Reject text that is unsafe to give the parser.

    The checks run in a fixed order (length, empty, banned words, characters, attribute access,
    forbidden patterns, names) and the first that fails gives the reason.

    Args:
        text: The untrusted text.
        rules: What is allowed.

    Raises:
        Rejected: Why the text is not parsed.
    """
    noun = rules.noun
    if len(text) > rules.max_chars:
        raise Rejected(f"{noun} longer than {rules.max_chars} characters")
    if not text.strip():
        raise Rejected(f"empty {noun}")
    lowered = text.lower()
    for banned in rules.banned_words:
        if banned in lowered:
            raise Rejected(f"{noun} contains {banned!r}")
    if not rules.chars.match(text):
        bad = sorted({ch for ch in text if not rules.chars.match(ch)})
        raise Rejected(f"{noun} contains characters outside the allowlist: {''.join(bad)!r}")
    if _ATTRIBUTE.search(text):
        raise Rejected(f"{noun} uses attribute access")
    for pattern, reason in rules.forbidden:
        if pattern.search(text):
            raise Rejected(f"{noun} uses {reason}")
    for name in rules.name.findall(text):
        if len(name) > 1 and name not in rules.names:
            raise Rejected(f"unsupported name {name!r}")
        if len(name) == 1 and name.isupper() and rules.capitals is not None and name not in rules.capitals:
            raise Rejected(f"unsupported name {name!r}")


def guard_tree(expr: object, rules: TreeRules) -> None:
    """Reject an unevaluated expression whose evaluation could take unbounded time or memory.

    Walks the tree depth first; size, depth and literals are checked on the way down, exponents and
    factorial-like arguments on the way up, so that a numeric exponent is only evaluated once its
    own parts have passed.

    Args:
        expr: The result of ``parse_expr(..., evaluate=False)`` or of an unevaluated rewrite.
        rules: What is allowed.

    Raises:
        Rejected: Why the expression is not evaluated.
    """
    if not isinstance(expr, sympy.Basic):
        raise Rejected(f"not an expression ({type(expr).__name__})")
    count = 0

    def walk(node: sympy.Basic, depth: int) -> None:
        nonlocal count
        count += 1
        if rules.max_nodes is not None and count > rules.max_nodes:
            raise Rejected(f"expression larger than {rules.max_nodes} nodes")
        if rules.max_depth is not None and depth > rules.max_depth:
            raise Rejected(f"expression nested deeper than {rules.max_depth} levels")
        if rules.max_literal is not None:
            _check_literal(node, rules.max_literal)
        for arg in node.args:
            walk(arg, depth + 1)
        _check_numbers(node, rules)

    walk(expr, 0)


def _check_literal(node: sympy.Basic, limit: float) -> None:
    if isinstance(node, sympy.Integer) and abs(int(node)) > limit:
        raise Rejected(f"number larger than {limit}")
    if isinstance(node, sympy.Float) and not abs(float(node)) <= limit:  # NaN fails too
        raise Rejected(f"number larger than {limit}")


def _check_numbers(node: sympy.Basic, rules: TreeRules) -> None:
    """Check the numeric exponent or the factorial-like arguments of one node, whose subtrees have
    passed."""
    if (
        isinstance(node, sympy.Pow)
        and node.exp.is_number
        and (node.base.is_number or not rules.numeric_base_only)
    ):
        if node.base in rules.exempt_bases:
            return
        value = _numeric_value(node.exp)
        if rules.real_exponent and value.imag != 0:
            raise Rejected("numeric exponent that is not real")
        if abs(value) > rules.max_exponent:
            raise Rejected(f"numeric exponent larger than {rules.max_exponent}")
        if rules.max_power_digits is not None and node.base.is_number:
            digits = abs(value) * abs(_numeric_value(sympy.log(sympy.Abs(node.base), 10)))
            if digits > rules.max_power_digits:
                raise Rejected(f"power of more than {rules.max_power_digits:g} digits")
    elif rules.max_factorial_argument is not None and (
        (
            isinstance(node, sympy.core.function.AppliedUndef)
            and node.func.__name__ in rules.factorial_functions
        )
        or isinstance(node, rules.factorial_types)
    ):
        for arg in node.args:
            if arg.is_number and abs(_numeric_value(arg)) > rules.max_factorial_argument:
                raise Rejected(f"factorial-like argument larger than {rules.max_factorial_argument}")


def _numeric_value(expr: sympy.Basic) -> complex:
    """The value of a numeric subexpression whose parts are already bounded.

    Raises:
        Rejected: The value cannot be computed.
    """
    try:
        return complex(sympy.N(expr, 15))
    except (TypeError, ValueError, OverflowError):
        raise Rejected("numeric value that cannot be bounded") from None


def parser_globals() -> dict[str, Any]:
    """The global namespace for ``parse_expr`` of untrusted text: what sympy's transformations
    need, and no builtins."""
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


def claim_namespaces() -> tuple[dict[str, Any], dict[str, Any]]:
    """Build the claim parser's global and local namespaces.

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
    for name in FUNCTION_NAMES:
        local_dict[name] = getattr(sympy, name)
    local_dict.update(_CONSTANT_NAMES)
    return global_dict, local_dict


def topic_namespace() -> dict[str, Any]:
    """The names the offline model's topic parser knows: lowercase letters as symbols (``e`` is
    Euler's number), a few functions and constants."""
    names: dict[str, Any] = {ch: sympy.Symbol(ch) for ch in "abcdfghijklmnopqrstuvwxyz"}
    names.update(
        sin=sympy.sin, cos=sympy.cos, tan=sympy.tan, exp=sympy.exp, log=sympy.log, ln=sympy.log,
        sqrt=sympy.sqrt, asin=sympy.asin, acos=sympy.acos, atan=sympy.atan, sinh=sympy.sinh,
        cosh=sympy.cosh, tanh=sympy.tanh, abs=sympy.Abs, pi=sympy.pi, e=sympy.E, E=sympy.E,
        oo=sympy.oo,
    )
    return names


# The claim checker: a claim names sympy's functions; the numbers it may compute are bounded, not
# its shape (claims are long and nested, and each is checked in a child with a time limit).
CLAIM_TEXT = TextRules(
    max_chars=MAX_CLAIM_CHARS,
    chars=re.compile(r"^[A-Za-z0-9 \t+\-*/^().,=<>!]*$"),
    names=frozenset(claim_namespaces()[1]),
    banned_words=("__", "import", "lambda", "exec", "eval", "open", "getattr", "globals", "locals"),
    noun="claim",
)
CLAIM_TREE = TreeRules(
    max_exponent=10_000,
    max_power_digits=100_000,
    numeric_base_only=True,
    exempt_bases=(sympy.S.Zero, sympy.S.One, sympy.S.NegativeOne),
    max_factorial_argument=100_000,
    factorial_functions=frozenset({"factorial", "factorial2", "binomial", "gamma", "product", "Product"}),
    # as parse_latex builds them
    factorial_types=(sympy.factorial, sympy.factorial2, sympy.binomial, sympy.gamma),
)

# The offline model's topic parser: short expressions in a few elementary functions, with a
# small tree, small literals and small real exponents, since its sympy work runs in a worker's
# activity thread. No "_": it is not an allowed character. "oo" only where the topic may name
# infinity (integration bounds, limit points).
TOPIC_TEXT = TextRules(
    max_chars=120,
    chars=re.compile(r"^[0-9A-Za-z +\-*/^().,=]*$"),
    names=frozenset("sin cos tan exp log ln sqrt pi asin acos atan sinh cosh tanh abs".split()),
    name=re.compile(r"[A-Za-z]+"),
    capitals=frozenset({"E"}),
    forbidden=(
        (re.compile(r"\d[eE][+-]?\d"), "scientific notation"),
        (re.compile(r"^(?=.*\* *\*)(?=.*\^)", re.DOTALL), "both ** and ^ for powers"),
    ),
    noun="expression",
)
TOPIC_TEXT_WITH_OO = replace(TOPIC_TEXT, names=TOPIC_TEXT.names | {"oo"})
TOPIC_TREE = TreeRules(max_exponent=20, real_exponent=True, max_nodes=80, max_depth=14, max_literal=10**6)
