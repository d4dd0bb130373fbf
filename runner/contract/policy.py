"""Step policies: how long a step may run, how often it must heartbeat, how it is retried.

A job kind gives every step a default :class:`StepPolicy`; a manifest overrides any part of it under
``steps:``, at the top level (the whole batch) and per topic::

    steps:
      render: {timeout: 30m, heartbeat: 60s, retry: {maximum_attempts: 3}}

Durations are seconds (a number) or a string such as ``90s``, ``30m``, ``1h30m``, ``500ms``.
The workflow side (:func:`retry_policy`, :func:`timeouts`) is sandbox-safe.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator
from temporalio.common import RetryPolicy

from runner.contract.names import QUEUE_PATTERN
from runner.contract.types import RetrySpec, StepPolicy

DEFAULT_POLICY = StepPolicy(timeout_s=600.0)
MAX_DURATION_S = 366 * 86400.0  # any duration: finite (workflow code turns it into a timedelta)
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)")


def parse_duration(value: Any) -> float:
    """Seconds from ``90``, ``"90s"``, ``"30m"``, ``"1h30m"`` or ``"500ms"``.

    Raises:
        ValueError: anything else, or a duration that is not positive.
    """
    if isinstance(value, bool):
        raise ValueError(f"must be a duration such as 90s, 30m or 1h, got {value!r}")
    if isinstance(value, (int, float)):
        seconds = float(value)
    elif isinstance(value, str):
        text = value.strip().replace(" ", "")
        parts = _PART.findall(text)
        if not parts or "".join(n + u for n, u in parts) != text:
            raise ValueError(f"must be a duration such as 90s, 30m or 1h, got {value!r}")
        seconds = sum(float(n) * _UNITS[u] for n, u in parts)
    else:
        raise ValueError(f"must be a duration such as 90s, 30m or 1h, got {value!r}")
    if not 0 < seconds <= MAX_DURATION_S:  # also NaN: no comparison holds for it
        raise ValueError(f"must be longer than zero and at most {MAX_DURATION_S / 86400:g}d, "
                         f"got {value!r}")
    return seconds


Duration = Annotated[float, BeforeValidator(parse_duration)]


def _heartbeat_problem(heartbeat: float, timeout: float) -> str | None:
    if heartbeat < timeout:
        return None
    return f"heartbeat ({heartbeat:g} s) must be shorter than timeout ({timeout:g} s)"


class RetryEntry(BaseModel):
    """``retry:`` of a step in a manifest (Temporal's retry policy)."""

    model_config = ConfigDict(extra="forbid", strict=True)
    maximum_attempts: int | None = Field(default=None, ge=1, le=1000,
                                         description="attempts in all, the first included")
    initial_interval: Duration | None = Field(default=None, description="wait before the 2nd attempt")
    backoff_coefficient: float | None = Field(default=None, ge=1, le=10,
                                              description="each wait is this times the last")
    maximum_interval: Duration | None = Field(default=None, description="longest wait")


class StepEntry(BaseModel):
    """One step's entry under ``steps:`` in a manifest; keys not given keep their default."""

    model_config = ConfigDict(extra="forbid", strict=True)
    timeout: Duration | None = Field(default=None, description="start-to-close timeout of one attempt "
                                     "(of each model's call, for an LLM step)")
    heartbeat: Duration | None = Field(default=None, description="heartbeat timeout: a worker silent "
                                       "this long is taken for dead (only steps that heartbeat)")
    retry: RetryEntry | None = None
    queue: str | None = Field(default=None, pattern=QUEUE_PATTERN, description="run this job step on "
                              "its own task queue, TASK_QUEUE.steps.QUEUE, served by workers started "
                              "with `--queues steps:QUEUE` (e.g. renders on machines of their own); "
                              "not for LLM steps, whose queues are per model")

    @model_validator(mode="after")
    def _consistent(self) -> StepEntry:
        if self.timeout is not None and self.heartbeat is not None:
            problem = _heartbeat_problem(self.heartbeat, self.timeout)
            if problem:
                raise ValueError(problem)
        return self


def apply(policy: StepPolicy, entry: StepEntry) -> StepPolicy:
    """``policy`` with what ``entry`` sets."""
    retry = policy.retry
    if entry.retry is not None:
        r = entry.retry
        retry = RetrySpec(
            maximum_attempts=r.maximum_attempts if r.maximum_attempts is not None else retry.maximum_attempts,
            initial_interval_s=r.initial_interval if r.initial_interval is not None
            else retry.initial_interval_s,
            backoff_coefficient=r.backoff_coefficient if r.backoff_coefficient is not None
            else retry.backoff_coefficient,
            maximum_interval_s=r.maximum_interval if r.maximum_interval is not None
            else retry.maximum_interval_s,
        )
    return StepPolicy(
        timeout_s=entry.timeout if entry.timeout is not None else policy.timeout_s,
        heartbeat_s=entry.heartbeat if entry.heartbeat is not None else policy.heartbeat_s,
        retry=retry,
        queue=entry.queue if entry.queue is not None else policy.queue,
    )


def conflicts(policy: StepPolicy) -> list[str]:
    """What is inconsistent in a resolved policy (e.g. after a topic overrode only the timeout)."""
    problems = []
    if policy.heartbeat_s is not None and (problem := _heartbeat_problem(policy.heartbeat_s,
                                                                         policy.timeout_s)):
        problems.append(problem)
    if policy.retry.maximum_interval_s < policy.retry.initial_interval_s:
        problems.append(f"retry.maximum_interval ({policy.retry.maximum_interval_s:g} s) must not be "
                        f"shorter than retry.initial_interval ({policy.retry.initial_interval_s:g} s)")
    return problems


def retry_policy(policy: StepPolicy) -> RetryPolicy:
    """Temporal's retry policy for a step."""
    r = policy.retry
    return RetryPolicy(
        initial_interval=timedelta(seconds=r.initial_interval_s),
        backoff_coefficient=r.backoff_coefficient,
        maximum_interval=timedelta(seconds=r.maximum_interval_s),
        maximum_attempts=r.maximum_attempts,
    )


# The engine's own activities (result files, checkpoints, the report) retry with the default policy.
DEFAULT_RETRY = retry_policy(DEFAULT_POLICY)


def heartbeat_timeout(policy: StepPolicy) -> timedelta | None:
    """The step's heartbeat timeout, if it heartbeats."""
    return timedelta(seconds=policy.heartbeat_s) if policy.heartbeat_s else None


def format_duration(seconds: float) -> str:
    """``90`` -> ``1m30s``: the manifest's own duration syntax."""
    if seconds < 1:
        return f"{seconds * 1000:g}ms"
    out = ""
    rest = seconds
    for unit, size in (("h", 3600), ("m", 60)):
        if rest >= size:
            out += f"{int(rest // size)}{unit}"
            rest -= int(rest // size) * size
    return out + (f"{rest:g}s" if rest or not out else "")


def describe_policy(policy: StepPolicy) -> str:
    """One line for `runner jobs` and the docs."""
    r = policy.retry
    beat = f", heartbeat {format_duration(policy.heartbeat_s)}" if policy.heartbeat_s else ""
    return (f"timeout {format_duration(policy.timeout_s)}{beat}, retry {r.maximum_attempts} attempts "
            f"({format_duration(r.initial_interval_s)} x{r.backoff_coefficient:g} up to "
            f"{format_duration(r.maximum_interval_s)})")
