"""The base of every job kind's per-topic workflow: its step log, its end, its queries and signals.

Every child workflow runs its pipeline through :meth:`TopicWorkflow.execute` and ends through
:func:`finish`, so results look the same for all kinds (succeeded, failed or cancelled), the parent
only ever keeps a small :class:`TopicOutcome`, and a topic run again by ``runner retry`` reuses its
earlier steps. Sandbox-safe.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import ClassVar, TypeVar, cast

from pydantic import BaseModel, ValidationError
from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError, FailureError, is_cancelled_exception

from runner.contract.budget import BUDGET_EXHAUSTED
from runner.contract.delivery import ANSWER_SIGNAL
from runner.contract.errors import failure_message
from runner.contract.jobkind import Step, TopicOutputs
from runner.contract.keys import spec_key
from runner.contract.llm import Delivered
from runner.contract.names import (
    LOAD_CHECKPOINTS_ACTIVITY,
    MODEL_OUT_SIGNAL,
    PROGRESS_QUERY,
    TOPIC_DONE_SIGNAL,
    WRITE_RESULT_ACTIVITY,
    result_path,
)
from runner.contract.policy import DEFAULT_RETRY
from runner.contract.types import (
    Checkpoints,
    ResultWrite,
    TopicDone,
    TopicInput,
    TopicOutcome,
    TopicProgress,
    TopicResult,
    TopicStatus,
)
from runner.workflow.gateway import ModelsOut
from runner.workflow.steps import StepLog

M = TypeVar("M", bound=BaseModel)
Out = TypeVar("Out", bound=TopicOutputs)

ENGINE_TIMEOUT = timedelta(seconds=60)
# The result file is written by a local activity (the workflow's own worker; one marker event
# instead of an activity's three events and a dispatch per topic).
LOCAL_RESULT_WRITE = "runner.result-write-local"


async def finish(
    inp: TopicInput, log: StepLog, outputs: TopicOutputs, error: BaseException | None = None
) -> TopicOutcome:
    """Write the topic's result (with its checkpoints) and return its outcome.

    Raises:
        ApplicationError: (non-retryable) when ``error`` is given, after the result is written, so the
            child workflow shows as failed in Temporal and the parent sees why.
        asyncio.CancelledError: ``error`` is a cancellation (re-raised: the child ends cancelled).
    """
    cancelled = error is not None and is_cancelled_exception(error)
    bad: TopicStatus = ("cancelled" if cancelled else "budget_exhausted" if _over_budget(error)
                        else "failed")
    failed_step = next((r.name for r in reversed(log.records)
                        if r.status == ("cancelled" if cancelled else "failed")), None)
    message = ("cancelled" if cancelled else failure_message(error)) if error is not None else None
    if error is not None and failed_step is None and log.records:
        failed_step = log.records[-1].name
    result = TopicResult(
        id=inp.spec.id, topic=inp.spec.topic,
        status="succeeded" if error is None else bad,
        error=message, failed_step=failed_step, steps=log.records,
        outputs=outputs.model_dump(mode="json"),
        spec_key=spec_key(inp.spec), checkpoints=log.kept(),
    )
    path = result_path(inp.topic_dir)
    write = ResultWrite(path=path, result=result, cache=inp.cache, refresh=inp.refresh, job=inp.job,
                        roots=log.roots, spec=inp.spec if inp.cache else None)
    if workflow.patched(LOCAL_RESULT_WRITE):  # in this worker: no task queue round trip
        await workflow.execute_local_activity(WRITE_RESULT_ACTIVITY, write,
                                              start_to_close_timeout=ENGINE_TIMEOUT,
                                              retry_policy=DEFAULT_RETRY)
    else:  # topics started by an earlier version
        await workflow.execute_activity(WRITE_RESULT_ACTIVITY, write, task_queue=inp.task_queue,
                                        start_to_close_timeout=ENGINE_TIMEOUT,
                                        retry_policy=DEFAULT_RETRY)
    await tell_parent(inp, result.status)
    if cancelled:
        assert error is not None
        raise error
    if error is not None:
        raise ApplicationError(f"{failed_step}: {message}", non_retryable=True,
                               type=BUDGET_EXHAUSTED if bad == "budget_exhausted" else "TopicFailed")
    return TopicOutcome(id=inp.spec.id, status="succeeded", result_path=path)


def _over_budget(error: BaseException | None) -> bool:
    """``error`` (or what caused it) is a call the batch's budget refused."""
    while error is not None:
        if isinstance(error, ApplicationError) and error.type == BUDGET_EXHAUSTED:
            return True
        error = error.cause if isinstance(error, FailureError) and error.cause else error.__cause__
    return False


async def tell_parent(inp: TopicInput, status: TopicStatus) -> None:
    """Tell the batch that this topic ended (its result file is written)."""
    parent = workflow.info().parent
    if parent is None or inp.index < 0:  # run alone, or by a batch that awaits its children
        return
    try:
        await workflow.get_external_workflow_handle(parent.workflow_id).signal(
            TOPIC_DONE_SIGNAL, TopicDone(index=inp.index, id=inp.spec.id, status=status))
    except FailureError as exc:  # the batch is gone (terminated): no one to tell
        workflow.logger.warning("could not tell batch %s that topic %s ended: %s", parent.workflow_id,
                                inp.spec.id, exc)


class TopicWorkflow:
    """Base of the job kinds' per-topic workflows: the step log, the ``progress`` query, the
    ``model_out`` signal.

    A subclass declares its pipeline's ``steps`` (each with its default policy; a manifest's
    ``steps:`` overrides them, resolved into the topic's spec) and its ``outputs_type``, and its run
    method returns ``await self.execute(inp, pipeline)``. The pipeline reads its options with
    :meth:`options`, runs its steps with ``log.run`` and ``gateway.complete`` (passing
    ``self.models_out``), rejects what a step gave with ``log.reject``, and fills in its outputs.
    """

    steps: ClassVar[tuple[Step, ...]] = ()
    outputs_type: ClassVar[type[TopicOutputs]] = TopicOutputs

    def __init__(self) -> None:
        self.log: StepLog | None = None
        self.models_out = ModelsOut()  # pass to gateway.complete
        self.mailbox: dict[str, Delivered] = {}  # answers of batch-delivered calls

    async def execute(self, inp: TopicInput,
                      pipeline: Callable[[TopicInput, StepLog, Out], Awaitable[None]]) -> TopicOutcome:
        """Run ``pipeline`` with fresh outputs of ``outputs_type`` and end through :func:`finish`:
        succeeded, failed (an activity or the pipeline gave up) or cancelled."""
        outputs = cast(Out, self.outputs_type())
        log = self.start(inp)
        try:
            if inp.resume_from:
                earlier = await workflow.execute_activity(
                    LOAD_CHECKPOINTS_ACTIVITY, inp.resume_from, result_type=Checkpoints,
                    task_queue=inp.task_queue, start_to_close_timeout=ENGINE_TIMEOUT,
                    retry_policy=DEFAULT_RETRY)
                log.earlier = earlier.checkpoints
            await pipeline(inp, log, outputs)
        except (ActivityError, ApplicationError, asyncio.CancelledError) as err:
            return await finish(inp, log, outputs, err)
        return await finish(inp, log, outputs)

    def start(self, inp: TopicInput) -> StepLog:
        """Open this topic's step log."""
        defaults = {step.name: step.policy for step in self.steps}
        self.log = StepLog(inp.spec.id, [step.name for step in self.steps],
                           {**defaults, **inp.spec.steps})
        self.models_out.names.update(inp.models_out)
        self.log.cache, self.log.refresh = inp.cache, inp.refresh
        self.log.job = inp.job
        self.log.cached_steps = frozenset(step.name for step in self.steps if step.cached)
        self.log.roots = {"topic": inp.topic_dir, "output": inp.output_dir}
        parent = workflow.info().parent
        if inp.budget and parent is not None and inp.index >= 0:
            self.log.budget = (parent.workflow_id, inp.index)
        if inp.delivery and parent is not None and inp.index >= 0:
            self.log.batched = frozenset(inp.delivery)
            self.log.batch_of = (parent.workflow_id, inp.output_dir)
        self.log.mailbox = self.mailbox
        return self.log

    @workflow.signal(name=ANSWER_SIGNAL)
    def batch_answer(self, delivered: Delivered) -> None:
        """The answer (or error) of one of this topic's calls, from its provider batch."""
        self.mailbox[delivered.custom_id] = delivered

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
        missing = [s.name for s in self.steps  # (a speech step without one speaks offline)
                   if s.llm and not s.speech and not inp.spec.models.get(s.name)]
        if missing:
            raise ApplicationError(f"no model chain for step(s) {', '.join(missing)}", type="BadInput",
                                   non_retryable=True)
        return options

    @workflow.query(name=PROGRESS_QUERY)
    def progress(self) -> TopicProgress:
        """Current step of this topic."""
        if self.log is None:
            return TopicProgress(id="", step=None, steps_done=0, steps_total=len(self.steps))
        return self.log.progress()
