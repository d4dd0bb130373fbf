"""The job-agnostic parent workflow: fan out one child per topic, at most ``concurrency`` at once,
then have the report written.

Per-topic details stay out of this workflow's history: children write their results to the artifact
store and return a small :class:`TopicOutcome`. Sandbox-safe.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import ChildWorkflowError

with workflow.unsafe.imports_passed_through():
    from runner.steps import DEFAULT_RETRY, failure_message
    from runner.topic import result_path
    from runner.types import (
        BatchInput,
        BatchProgress,
        BatchResult,
        ReportInput,
        ReportOutput,
        TopicInput,
        TopicOutcome,
        TopicSpec,
    )

BATCH_WORKFLOW = "runner.batch"
WRITE_REPORT_ACTIVITY = "runner.write_report"


def child_id(batch_id: str, topic_id: str) -> str:
    """The stable workflow id of a topic's child workflow."""
    return f"{batch_id}/{topic_id}"


@workflow.defn(name=BATCH_WORKFLOW)
class BatchWorkflow:
    """Runs a batch: one child workflow per topic, then the report."""

    @workflow.init
    def __init__(self, inp: BatchInput) -> None:
        self.inp = inp
        self.outcomes: dict[str, TopicOutcome] = {}
        self.running: list[str] = []
        self.finished = False

    @workflow.run
    async def run(self, inp: BatchInput) -> BatchResult:
        started = workflow.now()
        window = asyncio.Semaphore(inp.concurrency)
        await asyncio.gather(*(self._run_topic(spec, window) for spec in inp.topics))
        finished = workflow.now()
        report = await workflow.execute_activity(
            WRITE_REPORT_ACTIVITY,
            ReportInput(
                batch_id=inp.batch_id, name=inp.name, job=inp.job, manifest=inp.manifest,
                output_dir=inp.output_dir, started_at=started.isoformat(),
                finished_at=finished.isoformat(),
                outcomes=[self.outcomes[t.id] for t in inp.topics],
                topics={t.id: t.topic for t in inp.topics},
            ),
            result_type=ReportOutput,
            task_queue=inp.task_queue,
            start_to_close_timeout=timedelta(minutes=5),
            retry_policy=DEFAULT_RETRY,
        )
        self.finished = True
        return BatchResult(
            batch_id=inp.batch_id, report_json=report.report_json, report_md=report.report_md,
            total=report.total, succeeded=report.succeeded, failed=report.failed,
            wall_s=round((finished - started).total_seconds(), 3),
        )

    async def _run_topic(self, spec: TopicSpec, window: asyncio.Semaphore) -> None:
        topic_dir = f"{self.inp.output_dir}/topics/{spec.id}"
        async with window:
            self.running.append(spec.id)
            try:
                outcome = await workflow.execute_child_workflow(
                    self.inp.child_workflow,
                    TopicInput(batch_id=self.inp.batch_id, spec=spec, topic_dir=topic_dir,
                               output_dir=self.inp.output_dir, task_queue=self.inp.task_queue),
                    id=child_id(self.inp.batch_id, spec.id),
                    task_queue=self.inp.task_queue,
                    result_type=TopicOutcome,
                )
            except ChildWorkflowError as err:
                outcome = TopicOutcome(id=spec.id, status="failed", error=failure_message(err),
                                       result_path=result_path(topic_dir))
            finally:
                self.running.remove(spec.id)
        self.outcomes[spec.id] = outcome

    @workflow.query
    def progress(self) -> BatchProgress:
        """Counts and the topics in flight (for ``runner submit --wait``)."""
        done = list(self.outcomes.values())
        return BatchProgress(
            batch_id=self.inp.batch_id, total=len(self.inp.topics),
            succeeded=sum(1 for o in done if o.status == "succeeded"),
            failed=sum(1 for o in done if o.status == "failed"),
            running=list(self.running), finished=self.finished,
        )
