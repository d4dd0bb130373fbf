"""What a static check of scene code found, at a line."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Finding:
    """One rewrite, policy violation or code problem, at a line of the scene code."""

    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"
