"""Activity side of a pipeline step: one decorator that gives every step activity the same contract.

* its output (a :class:`StepOutput`) carries the attempt that produced it, so the report can say how
  many attempts a step took;
* every failure leaves as a Temporal ``ApplicationError`` whose retry meaning comes from the error
  (:class:`runner.contract.errors.StepError.retryable`) and whose details carry the attempt number.
  This is the one place where exceptions inside activities are translated for Temporal;
* a step whose input says how to use the step cache (``cache``, a :class:`CacheUse` filled in by
  the step log) is looked up there first: a hit puts the stored files in their places and returns
  the stored output (``cached_from`` says who made it) without running the step; a miss runs it and
  its output carries its key, so the topic's result write can publish it if the workflow keeps it.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
import typing
from collections.abc import Awaitable, Callable, Iterable
from datetime import timedelta
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from temporalio import activity
from temporalio.exceptions import ApplicationError

from runner.activity import metrics
from runner.activity.staging import Staging, needs_staging, staging
from runner.config.jobkinds import job_kinds
from runner.contract.artifacts import reset_files, use_files
from runner.contract.errors import StepError
from runner.contract.jobkind import JobKind
from runner.contract.types import CacheUse, StepOutput
from runner.store.cache import StepCache, cache_key, digests, roots_of
from runner.store.identity import step_identity

log = logging.getLogger(__name__)
# What a step output says about one run of it, not what it is: never stored in the step cache.
RUN_FIELDS = ("cache_key", "cached_from", "cache_files", "attempt")

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


def read_identities(kinds: Iterable[JobKind]) -> None:
    """Read the identities of the kinds' cached steps now (a worker starting), so that the code
    they hash is the code this process imported, not what is on disk when a step first runs.

    Raises:
        ValueError: a step names code that cannot be found (a mistake of the job kind).
    """
    for kind in kinds:
        for step in kind.steps:
            if step.cached:
                step_identity(kind.name, step)


def from_cache(use: CacheUse, arg: BaseModel,
               result_type: type[StepOutput]) -> tuple[str | None, StepOutput | None]:
    """The step's cache key (None: the step is not cached) and its cached output, put in place
    (None: a miss, or ``use.refresh``)."""
    kind = job_kinds().get(use.job)
    step = kind.step(use.step) if kind else None
    if step is None or not step.cached:
        return None, None
    roots = roots_of(use.roots)
    places = set(getattr(arg, "destinations", ()))
    key = cache_key(step_identity(use.job, step),
                    arg.model_dump(mode="json", exclude={"cache", *places}), roots,
                    arg.model_dump(mode="json", include=places))
    if use.refresh:
        return key, None
    cache = StepCache(use.folder)
    entry = cache.lookup(key)
    if entry is None:
        return key, None
    try:
        output = cache.materialize(entry, roots)
        return key, result_type.model_validate({**output, "cache_key": key,
                                                "cached_from": entry.produced_by})
    except (KeyError, TypeError, ValueError, ValidationError, OSError) as exc:  # foreign or damaged
        log.warning("step cache %s: entry %s not used: %s", use.folder, key, exc)
        return key, None


async def _run(fn: StepMethod[A, R], self: Any, arg: A, stage: Staging | None) -> R:
    """Run the step on ``arg`` (its artifacts staged in ``stage`` if they are in an object store),
    looking it up in the step cache first if its input says how."""
    use = getattr(arg, "cache", None)
    if stage is not None and isinstance(arg, BaseModel):
        arg = await asyncio.to_thread(stage.stage_in, arg)
        if isinstance(use, CacheUse):
            use = use.model_copy(update={"roots": {k: stage.local(v) for k, v in use.roots.items()}})
            arg = arg.model_copy(update={"cache": use})  # type: ignore[attr-defined]
    key = None
    if isinstance(use, CacheUse) and isinstance(arg, BaseModel):
        result_type = typing.get_type_hints(fn)["return"]
        key, hit = await asyncio.to_thread(from_cache, use, arg, result_type)
        if hit is not None:
            hit.attempt = _attempt()
            if stage is not None:
                hit = await asyncio.to_thread(stage.stage_out, hit)
            return typing.cast(R, hit)
    out = await fn(self, arg)
    if isinstance(out, StepOutput):
        out.attempt = _attempt()
        if key is not None and isinstance(use, CacheUse):
            out.cache_key = key
            found = await asyncio.to_thread(
                digests, out.model_dump(mode="json", exclude=set(RUN_FIELDS)), roots_of(use.roots))
            out.cache_files = {(stage.remote(p) if stage else None) or p: d for p, d in found.items()}
    if stage is not None and isinstance(out, StepOutput) and key is None and out.cache_files:
        # files a step keyed itself (the speech activity's audio), named as the store names them
        out.cache_files = {stage.remote(p) or p: d for p, d in out.cache_files.items()}
    if stage is not None and isinstance(out, BaseModel):
        return typing.cast(R, await asyncio.to_thread(stage.stage_out, out))
    return out


def step_activity(name: str) -> Callable[[StepMethod[A, R]], StepMethod[A, R]]:
    """Define a step activity (a method taking one model argument) under ``name``."""

    def decorate(fn: StepMethod[A, R]) -> StepMethod[A, R]:
        @functools.wraps(fn)
        async def wrapper(self: Any, arg: A) -> R:
            started = time.monotonic()
            outcome = "failed"
            try:
                out = await attempt(self, arg)
                outcome = "succeeded"
                return out
            except asyncio.CancelledError:
                outcome = "cancelled"
                raise
            except ApplicationError as err:
                if err.type == "WorkerShutdown":  # handed back, not failed
                    outcome = "cancelled"
                raise
            finally:
                metrics.step_ended(name, time.monotonic() - started, outcome)

        async def attempt(self: Any, arg: A) -> R:
            try:
                use = getattr(arg, "cache", None)
                roots = use.roots if isinstance(use, CacheUse) else None
                if isinstance(arg, BaseModel) and needs_staging(arg, roots):
                    with staging() as stage:
                        token = use_files(stage)
                        try:
                            return await _run(fn, self, arg, stage)
                        finally:
                            reset_files(token)
                return await _run(fn, self, arg, None)
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

        return activity.defn(name=name)(wrapper)

    return decorate
