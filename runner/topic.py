"""Workflow side of a topic's end: write its result file, then succeed or fail the child workflow.

Every job kind's child workflow ends through :func:`finish`, so results look the same for all kinds and
the parent only ever keeps a small :class:`TopicOutcome`. Sandbox-safe.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, ClassVar, TypeVar

from pydantic import BaseModel, ValidationError
from temporalio import workflow
from temporalio.exceptions import ApplicationError

from runner.llm.gateway import MODEL_OUT_SIGNAL, ModelsOut
from runner.steps import DEFAULT_RETRY, StepLog, failure_message
from runner.types import ResultWrite, TopicInput, TopicOutcome, TopicProgress, TopicResult

M = TypeVar("M", bound=BaseModel)

WRITE_RESULT_ACTIVITY = "runner.write_topic_result"
RESULT_FILE = "result.json"


def result_path(topic_dir: str) -> str:
    """Where a topic's result file lives."""
    return f"{topic_dir.rstrip('/')}/{RESULT_FILE}"


async def finish(
    inp: TopicInput, log: StepLog, outputs: dict[str, Any], error: BaseException | None = None
) -> TopicOutcome:
    """Write the topic's result and return its outcome.

    Raises:
        ApplicationError: (non-retryable) when ``error`` is given, after the result is written, so the
            child workflow shows as failed in Temporal and the parent sees why.
    """
    failed_step = next((r.name for r in reversed(log.records) if r.status == "failed"), None)
    message = failure_message(error) if error is not None else None
    if error is not None and failed_step is None and log.records:
        failed_step = log.records[-1].name
    result = TopicResult(
        id=inp.spec.id, topic=inp.spec.topic,
        status="failed" if error is not None else "succeeded",
        error=message, failed_step=failed_step, steps=log.records, outputs=outputs,
    )
    path = result_path(inp.topic_dir)
    await workflow.execute_activity(
        WRITE_RESULT_ACTIVITY, ResultWrite(path=path, result=result), task_queue=inp.task_queue,
        start_to_close_timeout=timedelta(seconds=60), retry_policy=DEFAULT_RETRY,
    )
    if error is not None:
        raise ApplicationError(f"{failed_step}: {message}", type="TopicFailed", non_retryable=True)
    return TopicOutcome(id=inp.spec.id, status="succeeded", result_path=path)


class TopicWorkflow:
    """Base of the job kinds' per-topic workflows: the step log and the ``progress`` query.

    A subclass sets ``steps`` and ``llm_steps``, calls :meth:`start` first in its run method, reads
    its options with :meth:`options` (inside its try), passes ``self.models_out`` to
    ``gateway.complete``, and ends through :func:`finish`.
    """

    steps: ClassVar[tuple[str, ...]] = ()
    llm_steps: ClassVar[tuple[str, ...]] = ()

    def __init__(self) -> None:
        self.log: StepLog | None = None
        self.models_out = ModelsOut()  # pass to gateway.complete

    def start(self, inp: TopicInput) -> StepLog:
        """Open this topic's step log."""
        self.log = StepLog(inp.spec.id, list(self.steps))
        self.models_out.names.update(inp.models_out)
        return self.log

    @workflow.signal(name=MODEL_OUT_SIGNAL)
    def model_out(self, model: str) -> None:
        """Another topic of the batch found ``model``'s quota exhausted: do not call it."""
        self.models_out.names.add(model)

    def options(self, model: type[M], inp: TopicInput) -> M:
        """The topic's job options, checked with its model chains: input this code cannot use
        fails the topic instead of failing the workflow task (which Temporal retries forever)."""
        try:
            options = model.model_validate(inp.spec.params)
        except ValidationError as exc:
            raise ApplicationError(f"bad topic options: {exc}", type="BadInput",
                                   non_retryable=True) from exc
        missing = [s for s in self.llm_steps if not inp.spec.models.get(s)]
        if missing:
            raise ApplicationError(f"no model chain for step(s) {', '.join(missing)}", type="BadInput",
                                   non_retryable=True)
        return options

    @workflow.query
    def progress(self) -> TopicProgress:
        """Current step of this topic."""
        if self.log is None:
            return TopicProgress(id="", step=None, steps_done=0, steps_total=len(self.steps))
        return self.log.progress()
