"""The job-agnostic parent workflow: fan out one child per topic, at most ``concurrency`` at once,
then have the report written.

Per-topic details stay out of this workflow's history: children write their results to the artifact
store and return a small :class:`TopicOutcome`. Sandbox-safe.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import ChildWorkflowError, is_cancelled_exception

with workflow.unsafe.imports_passed_through():
    from runner.contract.errors import failure_message
    from runner.contract.names import (
        BATCH_WORKFLOW,
        MODEL_OUT_SIGNAL,
        PROGRESS_QUERY,
        TOPICS_QUERY,
        WRITE_REPORT_ACTIVITY,
        child_id,
        result_path,
        topic_dir,
    )
    from runner.contract.policy import DEFAULT_RETRY
    from runner.contract.types import (
        BatchInput,
        BatchProgress,
        BatchResult,
        ReportInput,
        ReportOutput,
        TopicInput,
        TopicOutcome,
        TopicSpec,
        TopicStatus,
    )


@workflow.defn(name=BATCH_WORKFLOW)
class BatchWorkflow:
    """Runs a batch: one child workflow per topic, then the report.

    Cancelling it (``runner cancel``) cancels the running topics (their steps stop, their result
    files say cancelled) and the topics not started yet, writes the report, and ends cancelled.
    """

    @workflow.init
    def __init__(self, inp: BatchInput) -> None:
        self.inp = inp
        self.outcomes: dict[str, TopicOutcome] = {o.id: o for o in inp.carried}
        self.running: list[str] = []
        self.finished = False
        self.models_out: list[str] = []
        self.telling: list[asyncio.Task[None]] = []

    @workflow.run
    async def run(self, inp: BatchInput) -> BatchResult:
        started = workflow.now()
        window = asyncio.Semaphore(inp.concurrency)
        topics = [asyncio.create_task(self._run_topic(spec, window)) for spec in inp.topics]
        cancel: asyncio.CancelledError | None = None
        try:
            await asyncio.gather(*topics)
        except asyncio.CancelledError as err:
            cancel = err
            workflow.logger.info("batch cancelled: cancelling its topics")
            await workflow.wait(topics)  # each records its topic as cancelled
        await asyncio.gather(*self.telling)
        finished = workflow.now()
        order = [o.id for o in inp.carried] + [t.id for t in inp.topics]
        report = await workflow.execute_activity(
            WRITE_REPORT_ACTIVITY,
            ReportInput(
                batch_id=inp.batch_id, name=inp.name, job=inp.job, manifest=inp.manifest,
                output_dir=inp.output_dir, started_at=started.isoformat(),
                finished_at=finished.isoformat(), run_id=workflow.info().run_id,
                outcomes=[self.outcomes[i] for i in order], cancelled=cancel is not None,
                topics={t.id: t.topic for t in inp.topics}, models_out=self.models_out,
            ),
            result_type=ReportOutput,
            task_queue=inp.task_queue,
            start_to_close_timeout=timedelta(minutes=5),
            retry_policy=DEFAULT_RETRY,
        )
        self.finished = True
        if cancel is not None:
            raise cancel
        return BatchResult(
            batch_id=inp.batch_id, report_json=report.report_json, report_md=report.report_md,
            total=report.total, succeeded=report.succeeded, failed=report.failed,
            cancelled=report.cancelled, wall_s=round((finished - started).total_seconds(), 3),
        )

    async def _run_topic(self, spec: TopicSpec, window: asyncio.Semaphore) -> None:
        directory = topic_dir(self.inp.output_dir, spec.id)
        path = result_path(directory)
        try:
            async with window:
                self.running.append(spec.id)
                try:
                    outcome = await workflow.execute_child_workflow(
                        self.inp.child_workflow,
                        TopicInput(batch_id=self.inp.batch_id, spec=spec, topic_dir=directory,
                                   output_dir=self.inp.output_dir, task_queue=self.inp.task_queue,
                                   models_out=list(self.models_out),
                                   resume_from=self.inp.resume_from.get(spec.id)),
                        id=child_id(self.inp.batch_id, spec.id),
                        task_queue=self.inp.task_queue,
                        result_type=TopicOutcome,
                    )
                finally:
                    self.running.remove(spec.id)
        except ChildWorkflowError as err:
            status: TopicStatus = "cancelled" if is_cancelled_exception(err) else "failed"
            outcome = TopicOutcome(id=spec.id, status=status, error=failure_message(err),
                                   result_path=path)
        except asyncio.CancelledError:  # cancelled before its child started
            self.outcomes[spec.id] = TopicOutcome(id=spec.id, status="cancelled", error="cancelled",
                                                  result_path=path)
            raise
        self.outcomes[spec.id] = outcome

    @workflow.signal(name=MODEL_OUT_SIGNAL)
    def model_out(self, model: str) -> None:
        """A topic found ``model``'s quota exhausted: tell the running topics, and the ones to come."""
        if model in self.models_out:
            return
        self.models_out.append(model)
        for topic_id in self.running:
            workflow.logger.info("model %s is out of quota: telling topic %s", model, topic_id)
            self.telling.append(asyncio.create_task(self._tell(child_id(self.inp.batch_id, topic_id),
                                                               model)))

    async def _tell(self, workflow_id: str, model: str) -> None:
        try:
            await workflow.get_external_workflow_handle(workflow_id).signal(MODEL_OUT_SIGNAL, model)
        except Exception:  # it finished meanwhile: nothing left to tell
            pass

    @workflow.query(name=PROGRESS_QUERY)
    def progress(self) -> BatchProgress:
        """Counts and the topics in flight (for ``runner submit --wait``)."""
        done = list(self.outcomes.values())
        return BatchProgress(
            batch_id=self.inp.batch_id, total=len(self.inp.topics) + len(self.inp.carried),
            succeeded=sum(1 for o in done if o.status == "succeeded"),
            failed=sum(1 for o in done if o.status == "failed"),
            cancelled=sum(1 for o in done if o.status == "cancelled"),
            carried=len(self.inp.carried), running=list(self.running), finished=self.finished,
        )

    @workflow.query(name=TOPICS_QUERY)
    def topics(self) -> BatchProgress:
        """:meth:`progress` with every topic's state (for ``runner status``)."""
        states: dict[str, str] = {o.id: o.status for o in self.inp.carried}
        states.update({t.id: "pending" for t in self.inp.topics})
        states.update({i: o.status for i, o in self.outcomes.items()})
        states.update({i: "running" for i in self.running})
        return self.progress().model_copy(update={"topics": states})
