"""Small text and number utilities: cleaning topic text, cutting and wrapping it for scenes,
and floats as short Python literals."""

from __future__ import annotations

import unicodedata


def clean_text(text: str) -> str:
    """Remove control and unassigned characters, collapse whitespace.

    Args:
        text: Any string.

    Returns:
        The cleaned string (may be empty).
    """
    kept = []
    for ch in text:
        category = unicodedata.category(ch)
        if category in ("Zs", "Zl", "Zp") or ch in "\t\n\r":
            kept.append(" ")
        elif not category.startswith("C"):
            kept.append(ch)
    return " ".join("".join(kept).split())


def truncate(text: str, limit: int) -> str:
    """Cut ``text`` to ``limit`` characters, marking the cut with an ellipsis."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "\u2026"


def wrap(text: str, width: int = 34, max_lines: int = 3) -> str:
    """Wrap text into at most ``max_lines`` lines of about ``width`` characters.

    Args:
        text: Cleaned text.
        width: Line width.
        max_lines: Maximum number of lines.

    Returns:
        The text with newlines inserted.
    """
    lines: list[str] = []
    current = ""
    for word in text.split(" "):
        while len(word) > width:
            if current:
                lines.append(current)
                current = ""
            lines.append(word[:width])
            word = word[width:]
        if not current:
            current = word
        elif len(current) + 1 + len(word) <= width:
            current += " " + word
        else:
            lines.append(current)
            current = word
    if current:
        lines.append(current)
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = truncate(lines[-1] + " \u2026", width)
    return "\n".join(lines)


def display(text: str, limit: int = 90) -> str:
    """Topic text as shown in a scene: cleaned, truncated, never empty."""
    shown = truncate(clean_text(text), limit)
    return shown if shown else "Untitled topic"


def fl(value: float) -> str:
    """A float as a short Python literal."""
    rounded = round(float(value), 6)
    if rounded == 0:
        rounded = 0.0
    return repr(rounded)
