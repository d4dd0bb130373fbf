"""Check model-written claims with :mod:`jobs.explainer.mathcheck`, inside the sandbox.

sympy's parser calls ``eval`` on the text it parses, so the checker's package is copied into a
scratch directory and run from there (``python -m mathcheck``) through
:func:`runner.isolation.sandbox.run_sandboxed` (no network, read-only root, limits); inside, each
claim is checked in a child process with its own time limit.
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from jobs.explainer import mathcheck
from runner.contract.errors import StepError
from runner.isolation.proc import tail
from runner.isolation.sandbox import Limits, cleanup, run_sandboxed

CLAIM_TIMEOUT_S = 10.0


async def check_claims(claims: list[Any], *, workdir: Path, timeout_per_claim: float = CLAIM_TIMEOUT_S,
                       on_tick: Callable[[], None] | None = None) -> list[dict[str, str]]:
    """Check ``claims`` (strings) in the sandbox; one result record per claim, in order.

    Raises:
        StepError: (retryable) the checker itself failed or timed out; that says nothing of the claims.
    """
    if not claims:
        return []
    workdir.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=".claims-", dir=workdir))
    try:
        shutil.copytree(Path(mathcheck.__file__).parent, scratch / "mathcheck",
                        ignore=shutil.ignore_patterns("__pycache__"))
        request = {"claims": claims, "timeout_per_claim": timeout_per_claim}
        timeout = timeout_per_claim * len(claims) + 60
        # The command runs in the scratch dir (/sandbox in the jail), where `-m` finds the package.
        done = await run_sandboxed([sys.executable, "-m", "mathcheck"], scratch=scratch,
                                   timeout=timeout, stdin=json.dumps(request).encode(),
                                   limits=Limits(cpu_s=int(timeout) * 2), on_tick=on_tick)
    finally:
        cleanup(scratch)
    if done.timed_out:
        raise StepError(f"the claim checker timed out after {timeout:.0f} s")
    if done.code != 0:
        raise StepError(f"the claim checker failed (exit {done.code}): "
                        f"{done.exceeded or tail(done.stderr, 5)}")
    results: list[dict[str, str]] = json.loads(done.stdout)["results"]
    return results
