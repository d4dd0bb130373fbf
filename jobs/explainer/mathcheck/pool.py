"""Check claims in forked child processes, at most ``MAX_WORKERS`` at once, each killed when its time
limit passes (parsing included) and limited to 2 GiB of address space. :func:`check_claim` alone, in
the caller's process, has no time limit.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any

from . import budget
from .check import check_claim
from .latex import is_latex
from .result import record

DEFAULT_TIMEOUT = 10.0
MAX_TIMEOUT = 600.0
MAX_WORKERS = 2
CHILD_MEMORY_BYTES = 2 * 1024**3


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
                        results[index] = record(claim, "unknown", "error", "checker process died")
                elif now >= deadline:
                    results[index] = record(claim, "unknown", "timeout", f"timed out after {timeout:g} s")
                else:
                    continue
                del running[receiver]
                _stop_child(receiver, child)
    finally:
        for receiver, (_, child, _) in running.items():
            _stop_child(receiver, child)
    return [results[index] for index in range(len(claims))]


def _child_main(sender: Any, claim: str, timeout: float) -> None:
    """Entry point of the forked checker: limit memory and symbolic evaluation time, check, send
    the result."""
    budget.start_clock(timeout)
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (CHILD_MEMORY_BYTES, CHILD_MEMORY_BYTES))
    except (ImportError, ValueError, OSError):
        pass
    try:
        result = check_claim(claim)
    except MemoryError:
        result = record(claim, "unknown", "error", "out of memory")
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
