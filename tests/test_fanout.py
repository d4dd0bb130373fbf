"""The parent workflow at scale, on the real server: it reads its topics in pages, continues as new,
keeps every payload small, and cancel, retry and topics that end without a word work across runs.
Sizes are small and the continue-as-new threshold is lowered so that a few hundred topics take
several runs; bench/fanout.py runs the same at 10,000 and 100,000 topics."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from temporalio import activity
from temporalio.client import Client, WorkflowFailureError

from jobs.prompt.activities import PromptActivities
from jobs.prompt.workflow import PromptWorkflow
from runner.client.control import plan_retry
from runner.client.submit import start_batch
from runner.config.catalog import BUILTIN
from runner.config.jobkinds import job_kinds
from runner.contract.llm import LLMCall, LLMResponse
from runner.contract.names import BATCH_WORKFLOW, LLM_ACTIVITY, PROGRESS_QUERY, child_id
from runner.contract.types import BatchInput, BatchProgress, BatchResult, TopicSpec
from runner.dev.histories import all_ended, history_figures
from runner.worker.assembly import build_worker
from runner.workflow.batch import BatchWorkflow
from tests.workers import batch_input, results, workers_with

PAYLOAD_LIMIT = 256 * 1024  # Temporal warns above it


def specs(n: int, model: str = "offline") -> list[TopicSpec]:
    return [TopicSpec(id=f"t{i:04d}", topic=f"term {i}", models={"answer": [model]},
                      params={"prompt": "Define {topic}"}) for i in range(n)]


def prompt_batch(task_queue: str, tmp_path: Path, topics: list[TopicSpec], **kw: object) -> BatchInput:
    fields: dict[str, object] = {"concurrency": 20, "events_per_run": 300, **kw}
    return batch_input(output_dir=tmp_path, topics=topics, batch_id=f"f-{task_queue}", name="f",
                       job="prompt", child_workflow="prompt.topic", task_queue=task_queue,
                       manifest="m.yaml", **fields)


async def progress(client: Client, batch_id: str) -> BatchProgress:
    p: BatchProgress = await client.get_workflow_handle(batch_id).query(PROGRESS_QUERY,
                                                                        result_type=BatchProgress)
    return p


async def test_a_batch_continues_as_new_and_no_payload_grows_with_it(
        client: Client, task_queue: str, tmp_path: Path) -> None:
    topics = specs(150)
    inp = prompt_batch(task_queue, tmp_path, topics, concurrency=40, events_per_run=250)
    async with build_worker(client, task_queue=task_queue, catalog=BUILTIN, kinds=[job_kinds()["prompt"]]):
        result = await client.execute_workflow(BATCH_WORKFLOW, inp, id=inp.batch_id,
                                               task_queue=task_queue, result_type=BatchResult)
    assert (result.total, result.succeeded, result.failed) == (150, 150, 0)
    rows = results(tmp_path)
    assert [r["id"] for r in rows] == [t.id for t in topics]  # every topic, in the file's order
    assert {r["status"] for r in rows} == {"succeeded"}
    assert all(Path(r["output"]).is_file() for r in rows)
    figures = await history_figures(client, inp.batch_id)
    assert figures.runs >= 3, figures  # 150 topics at ~5 events each do not fit in 250 events
    # checked before each start of at most `concurrency` children: the overshoot is bounded by
    # what lands after the last check until the run's starts are confirmed: per start 4 events
    # (initiated, started, completed, signalled), per other running topic 2 (its word, its end),
    # and the workflow tasks that take them (3 events each; a loaded machine makes more, smaller
    # tasks: 495 events were seen beside a 100,000-topic run and a full suite). What matters:
    # it grows with the concurrency, never with the topics.
    assert figures.max_events <= 250 + 8 * 40, figures
    assert figures.largest_payload < 64 * 1024, figures  # a page of topics is the largest
    one_child = await history_figures(client, child_id(inp.batch_id, topics[-1].id))
    assert one_child.largest_payload < 16 * 1024, one_child
    assert inp.model_dump_json().__len__() < 2048  # the parent's input does not hold the topics


class Slow:
    """An LLM that takes a while, so that a batch can be caught midway."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.hang: set[str] = set()  # topics whose call never returns (until cancelled)

    @activity.defn(name=LLM_ACTIVITY)
    async def llm(self, call: LLMCall) -> LLMResponse:
        while any(t in call.request.messages[-1].content for t in self.hang):
            activity.heartbeat()
            await asyncio.sleep(0.2)
        await asyncio.sleep(self.delay)
        return LLMResponse(text=f"answer to {call.request.messages[-1].content}", model=call.model,
                           provider="test", provider_model="slow", attempt=1)


def slow_workers(client: Client, task_queue: str, llm: Slow):  # type: ignore[no-untyped-def]
    return workers_with(client, task_queue, workflows=[BatchWorkflow, PromptWorkflow],
                        activities=PromptActivities().activities(), llm=llm.llm, models=["m"])


async def test_cancel_midway_across_runs_then_retry_finishes_the_rest(
        client: Client, task_queue: str, tmp_path: Path) -> None:
    topics = specs(120, "m")
    inp = prompt_batch(task_queue, tmp_path, topics, events_per_run=200)
    # 1 s per answer: 120 topics 20 at a time take 6 s or more, so a loaded machine still
    # cancels with topics running and topics not yet started
    async with slow_workers(client, task_queue, Slow(1.0)):
        handle = await client.start_workflow(BATCH_WORKFLOW, inp, id=inp.batch_id,
                                             task_queue=task_queue, result_type=BatchResult)
        for _ in range(600):
            p = await progress(client, inp.batch_id)
            if p.runs >= 2 and p.succeeded >= 40 and p.running_count > 0:
                break
            await asyncio.sleep(0.1)
        assert p.runs >= 2 and p.running_count > 0, p
        await handle.cancel()
        with pytest.raises(WorkflowFailureError):
            await handle.result()
    rows = results(tmp_path)
    status = {r["id"]: r["status"] for r in rows}
    done = [i for i, s in status.items() if s == "succeeded"]
    assert len(status) == 120 and set(status.values()) == {"succeeded", "cancelled"}, status
    assert 40 <= len(done) < 120
    # the running topics were cancelled (their steps stopped), the rest never started
    assert await all_ended(client, [child_id(inp.batch_id, t.id) for t in topics[:len(done) + 40]])
    assert any(r["status"] == "cancelled" and r["steps"] for r in rows)
    assert any(r["error"] == "cancelled before it started" for r in rows)

    plan = await plan_retry(client, inp.batch_id)
    assert plan.rerun == 120 - len(done) and plan.inp.carried == len(done)
    async with slow_workers(client, task_queue, Slow(0.0)):
        handle = await start_batch(client, plan.inp, run="retry")
        result = await handle.result()
    assert (result.total, result.succeeded) == (120, 120)
    rows = results(tmp_path)
    assert sorted(r["id"] for r in rows if r.get("carried")) == sorted(done)
    assert {r["status"] for r in rows} == {"succeeded"}


async def test_a_topic_that_ends_without_a_word_does_not_hold_the_batch(
        client: Client, task_queue: str, tmp_path: Path) -> None:
    topics = specs(6, "m")
    llm = Slow(0.0)
    llm.hang = {"term 3"}
    inp = prompt_batch(task_queue, tmp_path, topics, concurrency=3, sweep_every_s=1.0)
    async with slow_workers(client, task_queue, llm):
        handle = await client.start_workflow(BATCH_WORKFLOW, inp, id=inp.batch_id,
                                             task_queue=task_queue, result_type=BatchResult)
        for _ in range(300):
            p = await progress(client, inp.batch_id)
            if p.succeeded == 5:
                break
            await asyncio.sleep(0.1)
        assert p.running == ["t0003"], p
        await client.get_workflow_handle(child_id(inp.batch_id, "t0003")).terminate("test")
        result = await asyncio.wait_for(handle.result(), 30)
    assert (result.succeeded, result.failed) == (5, 1)
    [stuck] = [r for r in results(tmp_path) if r["status"] != "succeeded"]
    assert stuck["id"] == "t0003" and "no result file" in stuck["error"]
