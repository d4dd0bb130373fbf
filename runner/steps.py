"""Workflow side of pipeline steps: run each step as an activity and keep its record for the report.

Imported inside the workflow sandbox: no I/O, no heavy imports.
"""

from __future__ import annotations

import typing
from datetime import datetime, timedelta
from typing import Any, TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError, ChildWorkflowError, RetryState

from runner.types import StepRecord, TopicProgress

T = TypeVar("T")

DEFAULT_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=2),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=60),
    maximum_attempts=5,
)


def failure_message(err: BaseException) -> str:
    """The message that says what went wrong: Temporal's wrappers (an activity or child workflow
    failed) are looked through, down to the first error that carries its own message."""
    cause: BaseException = err
    while isinstance(cause, (ActivityError, ChildWorkflowError)) and cause.__cause__ is not None:
        cause = cause.__cause__
    return getattr(cause, "message", None) or str(cause)


def failed_attempts(err: ActivityError, retry: RetryPolicy) -> int | None:
    """How many attempts a failed activity had, from its error details or its retry state."""
    cause = err.cause
    if isinstance(cause, ApplicationError) and cause.details:
        first = cause.details[0]
        if isinstance(first, dict) and isinstance(first.get("attempt"), int):
            return int(first["attempt"])
    if err.retry_state == RetryState.MAXIMUM_ATTEMPTS_REACHED:
        return retry.maximum_attempts or None
    return None


class StepLog:
    """Runs a job's steps in order and records each one (status, duration, attempts, model)."""

    def __init__(self, topic_id: str, steps: list[str]) -> None:
        self.topic_id = topic_id
        self.steps = steps
        self.records: list[StepRecord] = []
        self.current: StepRecord | None = None

    def begin(self, name: str) -> StepRecord:
        """Open the record of step ``name``."""
        record = StepRecord(name=name, status="running", started_at=workflow.now().isoformat())
        self.records.append(record)
        self.current = record
        return record

    def end(self, record: StepRecord, *, error: BaseException | None = None) -> None:
        """Close ``record``: succeeded, or failed with ``error``."""
        started = datetime.fromisoformat(record.started_at)
        record.duration_s = round((workflow.now() - started).total_seconds(), 3)
        record.status = "failed" if error is not None else "succeeded"
        if error is not None:
            record.error = failure_message(error)
        self.current = None

    async def run(
        self,
        name: str,
        activity: str,
        arg: Any,
        *,
        result_type: type[T],
        task_queue: str,
        timeout: timedelta,
        heartbeat: timedelta | None = None,
        retry: RetryPolicy = DEFAULT_RETRY,
    ) -> T:
        """Run step ``name`` as one activity and record it.

        Raises:
            ActivityError: the activity failed for good (the record says why).
        """
        record = self.begin(name)
        try:
            out = await workflow.execute_activity(
                activity,
                arg,
                result_type=result_type,
                task_queue=task_queue,
                start_to_close_timeout=timeout,
                heartbeat_timeout=heartbeat,
                retry_policy=retry,
            )
        except ActivityError as err:
            record.attempts = failed_attempts(err, retry)
            self.end(record, error=err)
            raise
        record.attempts = getattr(out, "attempt", None) or None
        self.end(record)
        return typing.cast(T, out)

    def progress(self) -> TopicProgress:
        """Answer for the child's ``progress`` query."""
        done = sum(1 for r in self.records if r.status == "succeeded")
        return TopicProgress(
            id=self.topic_id,
            step=self.current.name if self.current else None,
            steps_done=done,
            steps_total=len(self.steps),
        )
