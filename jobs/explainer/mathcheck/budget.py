"""Shares of a claim's time limit for symbolic work, in the checker child.

Past its share, sympy is interrupted: e.g. an integral it cannot do in time stays unevaluated and is
compared numerically, so hard claims end ``verified`` or ``refuted`` by numbers rather than by the
child's timeout. Outside a checker child (:func:`check_claim` in the caller's process) there is no
time limit.
"""

from __future__ import annotations

import contextlib
import signal
import time
from collections.abc import Iterator
from typing import Any

# Shares of a claim's time limit (from the start of its child) for symbolic work: evaluating the
# sides (integrate, doit...; past it they stay unevaluated, Integral, Sum..., and are compared
# numerically), simplifying an equality's difference, and deciding an inequality symbolically. The
# rest is left for numeric sampling.
EVALUATE_SHARE = 0.5
SIMPLIFY_SHARE = 0.75
DECIDE_SHARE = 0.9


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
