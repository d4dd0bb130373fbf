"""The engine's own activities, the same for every job kind: a topic's result file, the
checkpoints of an earlier run, the batch's topic file in pages, its running topics (told, cancelled,
checked), and its report."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

from temporalio import activity
from temporalio.client import WorkflowExecutionStatus
from temporalio.service import RPCError, RPCStatusCode

from runner.activity.report import write_report
from runner.activity.step import RUN_FIELDS, step_activity
from runner.config.jobkinds import job_kinds
from runner.contract.jobkind import TopicOutputs
from runner.contract.names import (
    CHECK_TOPICS_ACTIVITY,
    LOAD_CHECKPOINTS_ACTIVITY,
    READ_TOPICS_ACTIVITY,
    TELL_TOPICS_ACTIVITY,
    TOPIC_IDS_ACTIVITY,
    WRITE_REPORT_ACTIVITY,
    WRITE_RESULT_ACTIVITY,
)
from runner.contract.types import (
    Checkpoints,
    ClosedTopics,
    ReportInput,
    ReportOutput,
    ResultWrite,
    TellTopics,
    TopicIdsRequest,
    TopicPage,
    TopicPageRequest,
)
from runner.store.cache import StepCache, roots_of, topic_key
from runner.store.files import load_result, write_json_atomic
from runner.store.topics import ids_at, read_page

ENDED = {
    WorkflowExecutionStatus.COMPLETED: "succeeded",
    WorkflowExecutionStatus.CANCELED: "cancelled",
}
# Calls to the Temporal server at once when telling or checking many topics.
AT_ONCE = 32

log = logging.getLogger(__name__)


def publish_kept(write: ResultWrite, workflow_id: str) -> int:
    """Publish in the step cache every checkpoint of the topic that has a cache key and was not
    itself taken from the cache, and, for a topic that succeeded, record in the cache's index the
    keys of all its steps (what ``runner plan`` checks); returns how many entries were new. A store
    that cannot be written is logged, not raised: the topic's result stands."""
    assert write.cache is not None
    cache = StepCache(write.cache)
    roots = roots_of(write.roots)
    made_by = {"batch": workflow_id.rsplit("/", 1)[0], "topic": write.result.id,
               "at": datetime.now(UTC).isoformat(timespec="seconds")}
    published = 0
    for step, checkpoint in write.result.checkpoints.items():
        out = checkpoint.output
        key = out.get("cache_key")
        if not isinstance(key, str) or out.get("cached_from") is not None:
            continue
        kept = {k: v for k, v in out.items() if k not in RUN_FIELDS}
        # an LLM answer names no files: its text is kept as it is; a speech answer names its audio
        files = not checkpoint.model or bool(out.get("cache_files"))
        try:
            published += cache.publish(key, kept, roots if files else {},
                                       {**made_by, "step": step}, replace=write.refresh,
                                       expect=out.get("cache_files"))
        except OSError as exc:
            log.warning("step cache %s: could not keep %s of %s: %s", write.cache, step,
                        write.result.id, exc)
    if write.result.status == "succeeded" and write.job and write.spec is not None:
        steps = [{"name": r.name, "key": r.detail["cache_key"], "model": r.model, "status": r.status,
                  "usage": r.detail.get("usage"), "cost_usd": r.detail.get("cost_usd")}
                 for r in write.result.steps if r.detail.get("cache_key")]
        try:
            cache.index_put(topic_key(write.job, write.spec), {**made_by, "steps": steps})
        except OSError as exc:
            log.warning("step cache %s: could not index %s: %s", write.cache, write.result.id, exc)
    return published


async def _each(ids: list[str], call: object) -> list[object]:
    """Run ``call(workflow_id)`` for every id, AT_ONCE at a time."""
    gate = asyncio.Semaphore(AT_ONCE)

    async def one(workflow_id: str) -> object:
        async with gate:
            return await call(workflow_id)  # type: ignore[operator]

    return list(await asyncio.gather(*(one(i) for i in ids)))


class EngineActivities:
    """Activities every batch uses, whatever its job kind."""

    @step_activity(WRITE_RESULT_ACTIVITY)
    async def write_topic_result(self, inp: ResultWrite) -> None:
        """Write one topic's result file; with a step cache, publish there the answers the topic
        kept (its checkpoints: never one the workflow rejected, never a failed step's)."""
        await asyncio.to_thread(write_json_atomic, inp.path, inp.result.model_dump(mode="json"))
        if inp.cache is not None:
            await asyncio.to_thread(publish_kept, inp, activity.info().workflow_id or "")

    @step_activity(WRITE_REPORT_ACTIVITY)
    async def write_report(self, inp: ReportInput) -> ReportOutput:
        """Aggregate the topics' results into report.json, results.jsonl and report.md."""
        kind = job_kinds().get(inp.job)
        return await write_report(inp, kind.outputs if kind else TopicOutputs, activity.heartbeat)

    @step_activity(LOAD_CHECKPOINTS_ACTIVITY)
    async def load_checkpoints(self, path: str) -> Checkpoints:
        """The checkpoints of an earlier result file (none if it is gone or unreadable)."""
        result = await asyncio.to_thread(load_result, path)
        return Checkpoints(checkpoints=result.checkpoints if result else {})

    @step_activity(READ_TOPICS_ACTIVITY)
    async def read_topics(self, req: TopicPageRequest) -> TopicPage:
        """A page of the batch's topic file."""
        return await asyncio.to_thread(read_page, req)

    @step_activity(TOPIC_IDS_ACTIVITY)
    async def topic_ids(self, req: TopicIdsRequest) -> list[str]:
        """The ids of topics at known lines of the batch's topic file."""
        return await asyncio.to_thread(ids_at, req.path, req.offsets)

    @step_activity(TELL_TOPICS_ACTIVITY)
    async def tell_topics(self, req: TellTopics) -> None:
        """Signal or cancel topic workflows; one that has ended meanwhile is left alone."""
        client = activity.client()

        async def tell(workflow_id: str) -> None:
            handle = client.get_workflow_handle(workflow_id)
            try:
                if req.cancel:
                    await handle.cancel()
                if req.signal:
                    await handle.signal(req.signal, req.arg)
            except RPCError as exc:
                if exc.status not in (RPCStatusCode.NOT_FOUND, RPCStatusCode.FAILED_PRECONDITION):
                    raise

        await _each(req.workflow_ids, tell)

    @step_activity(CHECK_TOPICS_ACTIVITY)
    async def check_topics(self, req: TellTopics) -> ClosedTopics:
        """Which of these topic workflows have ended, and how (absent ones count as cancelled:
        they never started)."""
        client = activity.client()

        async def check(workflow_id: str) -> str | None:
            try:
                desc = await client.get_workflow_handle(workflow_id).describe()
            except RPCError as exc:
                if exc.status == RPCStatusCode.NOT_FOUND:
                    return "cancelled"
                raise
            if desc.status in (None, WorkflowExecutionStatus.RUNNING):
                return None
            return ENDED.get(desc.status, "failed")

        found = await _each(req.workflow_ids, check)
        return ClosedTopics(closed={i: how for i, how in zip(req.workflow_ids, found, strict=True)
                                    if isinstance(how, str)})

    def activities(self) -> list[object]:
        """The activity callables to register on a worker."""
        return [self.write_topic_result, self.write_report, self.load_checkpoints, self.read_topics,
                self.topic_ids, self.tell_topics, self.check_topics]
