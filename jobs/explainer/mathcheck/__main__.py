"""The checker as a program: ``{"claims", "timeout_per_claim"}`` JSON on stdin, ``{"results"}`` on
stdout."""

from __future__ import annotations

import json
import math
import sys

from .pool import DEFAULT_TIMEOUT, check_claims
from .result import record


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
        else record(json.dumps(claim), "unknown", "rejected", "claim is not a string")
        for claim in claims
    ]
    json.dump({"results": results}, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
