"""The result record of one claim."""

from __future__ import annotations


def record(claim: str, status: str, method: str, detail: str) -> dict[str, str]:
    """Build one result record."""
    return {"claim": claim, "status": status, "method": method, "detail": detail}
