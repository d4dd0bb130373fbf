"""Workflow side of pipeline steps: run each step as an activity and keep its record for the report.

Imported inside the workflow sandbox: no I/O, no heavy imports.
"""

from __future__ import annotations

import asyncio
import typing
from datetime import datetime, timedelta
from typing import TypeVar

from pydantic import BaseModel
from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError, RetryState, is_cancelled_exception

from runner.contract.errors import failure_message
from runner.contract.jobkind import base_step
from runner.contract.keys import input_key
from runner.contract.llm import Delivered
from runner.contract.names import steps_task_queue
from runner.contract.policy import DEFAULT_POLICY, heartbeat_timeout, retry_policy
from runner.contract.types import (
    CacheUse,
    Checkpoint,
    StepOutput,
    StepPolicy,
    StepRecord,
    TopicProgress,
)

M = TypeVar("M", bound=BaseModel)


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
    """Runs a job's steps in order and records each one (status, duration, attempts, model).

    Each step runs with its policy (timeout, heartbeat, retry) from the topic's spec. A finished
    step's output is kept as a checkpoint (written to the result file); a topic resumed by
    ``runner retry`` is given the earlier checkpoints and reuses those whose input is unchanged.
    """

    def __init__(self, topic_id: str, steps: list[str], policies: dict[str, StepPolicy] | None = None,
                 earlier: dict[str, Checkpoint] | None = None) -> None:
        self.topic_id = topic_id
        self.steps = steps
        self.policies = policies or {}
        self.earlier = earlier or {}
        self.checkpoints: dict[str, Checkpoint] = {}
        self.records: list[StepRecord] = []
        self.current: StepRecord | None = None
        self.trying: str | None = None  # the model an LLM step is calling now
        self.started_at = workflow.now().isoformat()
        self.cache: str | None = None  # the step cache's folder (None: no cache)
        self.refresh = False  # take nothing from the cache (still keep this topic's steps in it)
        self.job = ""  # the job kind, and which of its steps the cache keeps
        self.cached_steps: frozenset[str] = frozenset()
        self.roots: dict[str, str] = {}  # folders the steps' paths lie under (see CacheUse)
        self.budget: tuple[str, int] | None = None  # the batch's workflow id and this topic's line,
        # when the batch has a budget: each model call asks it for room first
        self.batched: frozenset[str] = frozenset()  # steps whose calls go in provider batches
        self.batch_of: tuple[str, str] | None = None  # the batch's workflow id and output folder
        self.mailbox: dict[str, Delivered] = {}  # answers of batched calls, by custom id

    def policy(self, name: str) -> StepPolicy:
        """The policy of step ``name`` (a re-ask such as ``answer (re-ask 1)`` has its step's)."""
        return self.policies.get(name) or self.policies.get(base_step(name)) or DEFAULT_POLICY

    def begin(self, name: str) -> StepRecord:
        """Open the record of step ``name``."""
        record = StepRecord(name=name, status="running", started_at=workflow.now().isoformat())
        self.records.append(record)
        self.current = record
        self.trying = None
        return record

    def end(self, record: StepRecord, *, error: BaseException | None = None) -> None:
        """Close ``record``: succeeded, cancelled, or failed with ``error``."""
        started = datetime.fromisoformat(record.started_at)
        record.duration_s = round((workflow.now() - started).total_seconds(), 3)
        if error is None:
            record.status = "succeeded"
        elif is_cancelled_exception(error):
            record.status = "cancelled"
            record.error = "cancelled"
        else:
            record.status = "failed"
            record.error = failure_message(error)
        if self.current is record:  # (steps may run side by side: the narration's sentences)
            self.current = None
            self.trying = None

    def reuse(self, name: str, key: str, result_type: type[M]) -> M | None:
        """The output of step ``name`` from an earlier run's checkpoint for the same input
        (recorded as a reused step), or None."""
        found = self.earlier.get(name)
        if found is None or found.key != key:
            return None
        record = StepRecord(name=name, status="succeeded", started_at=workflow.now().isoformat(),
                            duration_s=0.0, attempts=0, model=found.model, reused=True)
        if isinstance(cached := found.output.get("cache_key"), str):  # for the step cache's index
            record.detail["cache_key"] = cached
        self.records.append(record)
        self.checkpoints[name] = found
        return result_type.model_validate(found.output)

    def reject(self, name: str, error: str) -> None:
        """The workflow rejected what step ``name`` gave (an answer it cannot use, a result its own
        checks refuted): its latest record becomes failed with ``error``, and its checkpoint is
        not kept (a retry asks again instead of reusing what was rejected).

        Raises:
            ApplicationError: (non-retryable) no step ``name`` has run: a mistake of the job kind,
                which fails the topic (any other exception would fail the workflow task, which
                Temporal retries without end).
        """
        record = next((r for r in reversed(self.records) if r.name == name), None)
        if record is None:
            raise ApplicationError(f"the job kind rejected step {name!r}, which has not run",
                                   type="BadJobKind", non_retryable=True)
        record.status = "failed"
        record.error = error

    def keep(self, name: str, key: str, output: BaseModel, model: str | None = None) -> None:
        """Keep step ``name``'s output as a checkpoint."""
        self.checkpoints[name] = Checkpoint(key=key, output=output.model_dump(mode="json"), model=model)

    def kept(self) -> dict[str, Checkpoint]:
        """The checkpoints worth reusing: those of steps that still count as succeeded. A step whose
        output the workflow rejected afterwards (an invalid answer, a refuted claim) is marked
        failed, and a retry must ask again rather than reuse what was rejected."""
        last = {r.name: r.status for r in self.records}
        return {name: c for name, c in self.checkpoints.items() if last.get(name) == "succeeded"}

    async def run(self, name: str, activity: str, arg: BaseModel, *, result_type: type[M],
                  task_queue: str) -> M:
        """Run step ``name`` as one activity on the steps task queue of ``task_queue``, with the
        step's policy, and record it (or reuse its checkpoint).

        Raises:
            ActivityError: the activity failed for good (the record says why).
            asyncio.CancelledError: the topic was cancelled (the record says so).
        """
        key = input_key(activity, arg)
        reused = self.reuse(name, key, result_type)
        if reused is not None:
            return reused
        step = base_step(name)
        if self.cache and step in self.cached_steps and "cache" in type(arg).model_fields:
            arg = arg.model_copy(update={"cache": CacheUse(folder=self.cache, job=self.job, step=step,
                                                           roots=self.roots, refresh=self.refresh)})
        policy = self.policy(name)
        retry = retry_policy(policy)
        record = self.begin(name)
        try:
            out = await workflow.execute_activity(
                activity,
                arg,
                result_type=result_type,
                task_queue=steps_task_queue(task_queue, policy.queue),
                start_to_close_timeout=timedelta(seconds=policy.timeout_s),
                heartbeat_timeout=heartbeat_timeout(policy),
                retry_policy=retry,
                # a heartbeating step hears of a cancellation: wait until it has stopped its work
                cancellation_type=workflow.ActivityCancellationType.WAIT_CANCELLATION_COMPLETED
                if policy.heartbeat_s else workflow.ActivityCancellationType.TRY_CANCEL,
            )
        except ActivityError as err:
            record.attempts = failed_attempts(err, retry)
            self.end(record, error=err)
            raise
        except asyncio.CancelledError as err:
            self.end(record, error=err)
            raise
        record.attempts = getattr(out, "attempt", None) or None
        if isinstance(out, StepOutput):
            if out.cache_key:
                record.detail["cache_key"] = out.cache_key
            if out.cached_from is not None:  # the step cache's: the step did not run
                record.detail["cached_from"] = out.cached_from
        self.end(record)
        self.keep(name, key, out)
        return typing.cast(M, out)

    def progress(self) -> TopicProgress:
        """Answer for the child's ``progress`` query."""
        done = sum(1 for r in self.records if r.status == "succeeded")
        current = self.current
        return TopicProgress(
            id=self.topic_id,
            step=current.name if current else None,
            steps_done=done,
            steps_total=len(self.steps),
            started_at=self.started_at,
            step_started_at=current.started_at if current else None,
            model=self.trying or (current.model if current else None),
            reused=[r.name for r in self.records if r.reused],
        )
