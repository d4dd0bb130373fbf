r"""Split a claim at its single top-level relation, in sympy syntax or in LaTeX.

One scanner reads both notations; they differ only where the notation does. sympy syntax (screened:
no braces, brackets or backslashes) may not hold a relation inside parentheses, while LaTeX leaves
those to the parser (the ``=`` of ``\sum_{k=1}``), has relation commands (``\le``, ``\geq``...) and
rejects a top-level ``!=``, which could be ``n! =``.
"""

from __future__ import annotations

from .latex import LATEX_COMMAND, LATEX_RELATIONS
from .screen import Rejected


def split_relation(text: str, *, latex: bool) -> tuple[str, str, str]:
    """Split a claim at its single top-level relation.

    Args:
        text: Screened sympy-syntax text, or normalised LaTeX.
        latex: Whether ``text`` is LaTeX.

    Returns:
        ``(lhs, op, rhs)`` with ``op`` one of ``== < <= > >= !=``.

    Raises:
        Rejected: No relation, more than one, an empty side or unbalanced brackets; in sympy
            syntax a relation inside parentheses, in LaTeX an ambiguous ``!=``.
    """
    brackets = "braces, brackets or parentheses" if latex else "parentheses"
    found: list[tuple[int, int, str]] = []
    depth = 0
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\\":
            match = LATEX_COMMAND.match(text, i)
            end = match.end() if match else i + 1
            name = match.group(1) if match else ""
            if depth == 0 and name in LATEX_RELATIONS:
                found.append((i, end, LATEX_RELATIONS[name]))
            i = max(end, i + 1)
            continue
        if ch in "{([":
            depth += 1
        elif ch in "})]":
            depth -= 1
            if depth < 0:
                raise Rejected(f"unbalanced {brackets}")
        elif ch in "=<>!":
            two = text[i : i + 2]
            op = two if two in ("==", "<=", ">=", "!=") else ch
            if op == "!":  # factorial notation
                i += 1
                continue
            if depth > 0:
                if not latex:
                    raise Rejected("relation inside parentheses")
                i += 1
                continue
            if latex and op == "!=":
                raise Rejected(
                    "'!=' is ambiguous in LaTeX (factorial or not equal): write \\neq or n! ="
                )
            found.append((i, i + len(op), "==" if op == "=" else op))
            i += len(op)
            continue
        i += 1
    if depth != 0:
        raise Rejected(f"unbalanced {brackets}")
    if not found:
        relations = "=, <, \\le, >, \\ge" if latex else "==, <, <=, >, >="
        raise Rejected(f"no relation ({relations}) at top level")
    if len(found) > 1:
        raise Rejected("more than one relation at top level")
    start, end, op = found[0]
    lhs, rhs = text[:start].strip(), text[end:].strip()
    if not lhs or not rhs:
        raise Rejected("a side of the relation is empty")
    return lhs, op, rhs
