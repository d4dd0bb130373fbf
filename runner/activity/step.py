"""Activity side of a pipeline step: one decorator that gives every step activity the same contract.

* its output (a :class:`StepOutput`) carries the attempt that produced it, so the report can say how
  many attempts a step took;
* every failure leaves as a Temporal ``ApplicationError`` whose retry meaning comes from the error
  (:class:`runner.contract.errors.StepError.retryable`) and whose details carry the attempt number.
  This is the one place where exceptions inside activities are translated for Temporal.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any, TypeVar

from temporalio import activity
from temporalio.exceptions import ApplicationError

from runner.contract.errors import StepError
from runner.contract.types import StepOutput

A = TypeVar("A")
R = TypeVar("R")


def _attempt() -> int:
    try:
        return activity.info().attempt
    except RuntimeError:  # called outside an activity (unit tests)
        return 1


def _worker_shutting_down() -> bool:
    try:
        return activity.is_worker_shutdown()
    except RuntimeError:
        return False


def application_error(
    message: str,
    *,
    type: str,
    non_retryable: bool = False,
    next_retry_delay: timedelta | None = None,
) -> ApplicationError:
    """An ``ApplicationError`` with the current attempt in its details (see the module docstring)."""
    return ApplicationError(
        message,
        {"attempt": _attempt()},
        type=type,
        non_retryable=non_retryable,
        next_retry_delay=next_retry_delay,
    )


def to_application_error(exc: BaseException) -> ApplicationError:
    """Translate any exception raised by step code into an ``ApplicationError``."""
    if isinstance(exc, ApplicationError):
        if exc.details:
            return exc
        return application_error(
            exc.message, type=exc.type or "ApplicationError", non_retryable=exc.non_retryable,
            next_retry_delay=exc.next_retry_delay,
        )
    retryable = exc.retryable if isinstance(exc, StepError) else True
    return application_error(
        str(exc) or type(exc).__name__, type=type(exc).__name__, non_retryable=not retryable
    )


StepMethod = Callable[[Any, A], Awaitable[R]]


def step_activity(name: str) -> Callable[[StepMethod[A, R]], StepMethod[A, R]]:
    """Define a step activity (a method taking one model argument) under ``name``."""

    def decorate(fn: StepMethod[A, R]) -> StepMethod[A, R]:
        @functools.wraps(fn)
        async def wrapper(self: Any, arg: A) -> R:
            try:
                out = await fn(self, arg)
            except asyncio.CancelledError:
                if _worker_shutting_down():  # handed back: another worker takes the step
                    raise application_error("the worker shut down while the step ran",
                                            type="WorkerShutdown") from None
                raise
            except Exception as exc:
                err = to_application_error(exc)
                if err is exc:  # already translated: `from exc` would make it its own cause
                    raise
                raise err from exc
            if isinstance(out, StepOutput):
                out.attempt = _attempt()
            return out

        return activity.defn(name=name)(wrapper)

    return decorate
