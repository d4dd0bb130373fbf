r"""LaTeX claims: screen and normalise the text, split it at the relation, parse each side with
``parse_latex`` and rewrite it in sympy's terms.

A claim is LaTeX when it contains a backslash or a brace. The relation is split at the top level
(outside braces, brackets and parentheses): ``=``, ``<``, ``>``, ``\le``/``\leq``, ``\ge``/``\geq``,
``\lt``, ``\gt`` (``\ne``/``\neq`` claims are not checked), exactly one. Each side is parsed with
sympy's ``parse_latex`` (ANTLR backend, strict) and rewritten: ``e`` is Euler's number and ``i`` the
imaginary unit unless a sum, product, integral, limit or derivative binds them, ``\pi`` is pi, a
one-letter "function" such as ``n(n+1)`` is a product, ``\max``/``\min``/``\Gamma`` are sympy's.
Derivatives, integrals, sums, products and limits are then evaluated (a two-sided limit needs both
sides to agree) and the sides go through the same checks as sympy syntax.

LaTeX is not evaluated with ``eval``, but is screened too: at most ``MAX_CLAIM_CHARS`` characters, an
allowlist of characters and of commands (no ``\input``, ``\def``, ``\newcommand``...; unknown
commands are rejected rather than read as products of letters), no digits separated only by spaces
(which the parser would join) and no multi-digit unbraced scripts such as ``x^12``; after parsing,
every symbol must be a letter (optionally with a subscript) or a Greek letter.
"""

from __future__ import annotations

import re
from typing import Any

import sympy

from .budget import EVALUATE_SHARE, time_share
from .deadline import OutOfTime
from .screen import CLAIM_TREE, MAX_CLAIM_CHARS, Rejected, guard_tree

_LATEX_SAFE_CHARS = re.compile(r"^[A-Za-z0-9 \t\r\n+\-*/^_=<>!().,|{}\[\]\\]*$")
LATEX_COMMAND = re.compile(r"\\([A-Za-z]+|[^A-Za-z]?)")
_LATEX_DROPPED = re.compile(
    r"\\(?:left|right|bigl|bigr|Bigl|Bigr|biggl|biggr|big|Big|bigg|Bigg)(?![A-Za-z])\s*\.?"
    r"|\\(?:displaystyle|textstyle|limits|nolimits)(?![A-Za-z])"
)
_LATEX_SPACES = re.compile(r"\\(?:[,;:! ]|q?quad(?![A-Za-z]))")
_LATEX_ROMAN = re.compile(r"\\(?:mathrm|mathit|operatorname)\s*\{\s*([A-Za-z])\s*\}")
_LATEX_LONG_SCRIPT = re.compile(r"[\^_]\s*[0-9][0-9]")
_LATEX_SHORT_SCRIPT = re.compile(r"([\^_])\s*([A-Za-z0-9])")
_LATEX_SPACED_DIGITS = re.compile(r"[0-9.]\s+[0-9]")
LATEX_RELATIONS = {
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
) | _LATEX_GREEK | frozenset(LATEX_RELATIONS)
# Undefined functions parse_latex leaves applied, and the sympy functions they name.
_LATEX_FUNCTIONS: dict[str, Any] = {"max": sympy.Max, "min": sympy.Min, "Gamma": sympy.gamma}
_LATEX_SYMBOL = re.compile(r"^([A-Za-z]+)(?:_\{[A-Za-z0-9*+\- ]+\})?$")


def is_latex(claim: str) -> bool:
    """Whether a claim is read as LaTeX: it contains a backslash or a brace."""
    return "\\" in claim or "{" in claim


def normalize_latex(claim: str) -> str:
    """Screen a LaTeX claim and normalise it for ``parse_latex``.

    Strips ``$`` delimiters around the whole claim, drops sizing and spacing commands
    (``\\left``, ``\\,``, ``\\displaystyle``...), reads ``\\mathrm{d}`` as ``d`` and braces
    one-character scripts (``x^2`` becomes ``x^{2}``, so ``\\int_0^1 2x`` keeps its ``2``).

    Args:
        claim: The claim text.

    Returns:
        The normalised text.

    Raises:
        Rejected: Why the claim is not parsed: too long, characters or commands outside the
            allowlist, or notation ``parse_latex`` would misread.
    """
    if len(claim) > MAX_CLAIM_CHARS:
        raise Rejected(f"claim longer than {MAX_CLAIM_CHARS} characters")
    text = claim.strip()
    for delimiter in ("$$", "$"):
        if len(text) > 2 * len(delimiter) and text.startswith(delimiter) and text.endswith(delimiter):
            text = text[len(delimiter) : -len(delimiter)].strip()
            break
    if not text:
        raise Rejected("empty claim")
    if not _LATEX_SAFE_CHARS.match(text):
        bad = sorted({ch for ch in text if not _LATEX_SAFE_CHARS.match(ch)})
        raise Rejected(f"claim contains characters outside the LaTeX allowlist: {''.join(bad)!r}")
    if "\\\\" in text:
        raise Rejected("claim contains a line break (\\\\)")
    for name in LATEX_COMMAND.findall(text):
        if name in _LATEX_BANNED:
            raise Rejected(f"LaTeX command \\{name} is not allowed")
    text = _LATEX_ROMAN.sub(r"\1", text)
    text = _LATEX_DROPPED.sub(" ", text)
    text = _LATEX_SPACES.sub(" ", text)
    for name in LATEX_COMMAND.findall(text):
        if not name:
            raise Rejected("claim ends with a backslash")
        if name not in _LATEX_COMMANDS:
            raise Rejected(f"unsupported LaTeX command \\{name}")
    if _LATEX_LONG_SCRIPT.search(text):
        raise Rejected("ambiguous unbraced script such as x^12: write x^{12}")
    text = _LATEX_SHORT_SCRIPT.sub(r"\1{\2}", text)
    if _LATEX_SPACED_DIGITS.search(text):
        raise Rejected("digits separated only by spaces (the parser would join them)")
    return text


def _parse_latex_side(text: str) -> sympy.Expr:
    """Parse one side of a LaTeX claim with ``parse_latex`` (strict), unevaluated.

    Raises:
        Rejected: A parse failure or something that is not a scalar expression.
    """
    try:
        from sympy.parsing.latex import parse_latex
    except ImportError as exc:  # pragma: no cover - sympy always ships it
        raise Rejected(f"LaTeX parsing unavailable: {exc}") from None
    try:
        raw = parse_latex(text, strict=True)
    except ImportError as exc:
        raise Rejected(f"LaTeX parsing unavailable (antlr4-python3-runtime 4.11): {exc}") from None
    except Exception as exc:
        lines = str(exc).strip().splitlines()
        reason = lines[0] if lines else type(exc).__name__
        raise Rejected(f"cannot parse LaTeX {text!r}: {reason}") from None
    if not isinstance(raw, sympy.Expr):
        raise Rejected(f"LaTeX {text!r} is not a scalar expression ({type(raw).__name__})")
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
        Rejected: A symbol that is not a letter or a Greek letter, with an optional subscript.
    """
    for symbol in expr.atoms(sympy.Symbol):
        name = symbol.name
        if name in ("+", "-", "+-"):  # the direction of a limit
            continue
        match = _LATEX_SYMBOL.match(name)
        base = match.group(1) if match else ""
        if not (len(base) == 1 or base in _LATEX_GREEK or base == "pi"):
            raise Rejected(f"unsupported LaTeX notation (read as the symbol {name!r})")


def _latex_rewrite(node: sympy.Basic, constants: dict[str, sympy.Basic]) -> sympy.Basic:
    """Rewrite a parsed LaTeX expression, unevaluated (call inside ``sympy.evaluate(False)``).

    Symbols named in ``constants`` become those constants; ``n(n+1)`` (an undefined one-letter
    function) becomes the product ``n*(n+1)``; ``max``, ``min`` and ``Gamma`` become sympy's.

    Raises:
        Rejected: An undefined function of another name or with several arguments.
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
        raise Rejected(f"unsupported function {name}(...) in LaTeX")
    return node.func(*args)


def _rebuild(node: sympy.Basic) -> sympy.Basic:
    """Rebuild an unevaluated expression bottom-up with evaluation, without ``doit``."""
    if not node.args:
        return node
    return node.func(*[_rebuild(arg) for arg in node.args])


def parse_latex_sides(lhs_text: str, rhs_text: str) -> tuple[sympy.Expr, sympy.Expr, tuple[Any, Any]]:
    """Parse, rewrite, guard and evaluate both sides of a LaTeX claim.

    Args:
        lhs_text: Left side, normalised LaTeX.
        rhs_text: Right side, normalised LaTeX.

    Returns:
        ``(lhs, rhs, (lhs_inert, rhs_inert))``: the evaluated sides (derivatives, integrals, sums,
        products and limits done where sympy can), and the rewritten unevaluated ones.

    Raises:
        Rejected: A parse failure, unsupported notation or an unbounded numeric computation.
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
        guard_tree(expr, CLAIM_TREE)
        try:
            with time_share(EVALUATE_SHARE):
                value = expr.doit()
        except (RecursionError, MemoryError):
            raise
        except (Exception, OutOfTime):
            # Too slow, or e.g. a two-sided limit whose sides differ: left unevaluated.
            value = _rebuild(expr)
        if not isinstance(value, sympy.Expr):
            raise Rejected(f"LaTeX {text!r} is not a scalar expression ({type(value).__name__})")
        values.append(value)
    return values[0], values[1], (inert[0], inert[1])
