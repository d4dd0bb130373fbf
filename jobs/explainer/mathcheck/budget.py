"""Shares of a claim's time limit for symbolic work, in the checker child.

Past its share, sympy is interrupted: e.g. an integral it cannot do in time stays unevaluated and is
compared numerically, so hard claims end ``verified`` or ``refuted`` by numbers rather than by the
child's timeout. Outside a checker child (:func:`check_claim` in the caller's process) there is no
time limit.
"""

from __future__ import annotations

import contextlib
import time

from .deadline import time_limit

# Shares of a claim's time limit (from the start of its child) for symbolic work: evaluating the
# sides (integrate, doit...; past it they stay unevaluated, Integral, Sum..., and are compared
# numerically), simplifying an equality's difference, and deciding an inequality symbolically. The
# rest is left for numeric sampling.
EVALUATE_SHARE = 0.5
SIMPLIFY_SHARE = 0.75
DECIDE_SHARE = 0.9

# (start, time limit) of the claim checked in this process (time.monotonic()); set only in a forked
# checker child.
_clock: tuple[float, float] | None = None


def start_clock(timeout: float) -> None:
    """Start the clock of the claim this process checks (in a forked checker child).

    Args:
        timeout: The claim's time limit in seconds, from now.
    """
    global _clock
    _clock = (time.monotonic(), timeout)


def time_share(share: float) -> contextlib.AbstractContextManager[None]:
    """Interrupt the block with :class:`.deadline.OutOfTime` once ``share`` of the claim's time
    limit has passed (at once when it already has).

    Args:
        share: The fraction of the time limit, counted from :func:`start_clock`.

    Returns:
        A context manager for one ``with`` statement; it does nothing outside a checker child.
    """
    if _clock is None:
        return contextlib.nullcontext()
    start, timeout = _clock
    return time_limit(start + share * timeout - time.monotonic())
