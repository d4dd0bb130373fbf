"""Cancelling a batch and retrying it, at the workflow level (real server, fake step activities)."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import pytest
from temporalio import activity
from temporalio.client import Client, WorkflowFailureError
from temporalio.exceptions import CancelledError

from jobs.explainer.types import STEPS, RenderInput, RenderOutput
from jobs.explainer.workflow import ExplainerWorkflow
from runner.activity.engine import EngineActivities
from runner.contract.keys import spec_key
from runner.contract.llm import LLMCall, LLMResponse
from runner.contract.names import BATCH_WORKFLOW, result_path
from runner.contract.types import BatchInput, BatchResult, TopicSpec
from runner.workflow.batch import BatchWorkflow
from tests.test_batch_workflow import MODELS, Fakes, replay_batch
from tests.workers import batch_input, results, workers_with

FAST_HEARTBEAT = {s.name: s.policy.model_copy(update={"heartbeat_s": 5}) if s.name == "render" else s.policy
                  for s in STEPS}


class Hanging(Fakes):
    """Renders hang (heartbeating) until cancelled, unless ``finish`` is set."""

    def __init__(self) -> None:
        super().__init__()
        self.started: set[str] = set()
        self.cancelled_at: dict[str, float] = {}
        self.finish = False

    @activity.defn(name="explainer.render")
    async def render(self, inp: RenderInput) -> RenderOutput:
        topic = Path(inp.topic_dir).name
        self.started.add(topic)
        try:
            while not self.finish:
                activity.heartbeat()
                await asyncio.sleep(0.2)
        except asyncio.CancelledError:
            self.cancelled_at[topic] = time.monotonic()
            raise
        return RenderOutput(videos=[f"{inp.topic_dir}/{s.id}.mp4" for s in inp.scenes],
                            rendered=[s.id for s in inp.scenes], attempt=activity.info().attempt)


def batch(task_queue: str, tmp_path: Path, topics: list[TopicSpec], **kw: Any) -> BatchInput:
    return batch_input(batch_id=f"c-{task_queue}", name="c", job="explainer",
                       child_workflow="explainer.topic", task_queue=task_queue, output_dir=tmp_path,
                       concurrency=2, manifest="m.yaml", topics=topics, **kw)


async def test_cancel_stops_running_steps_and_retry_reuses_finished_ones(
        client: Client, task_queue: str, tmp_path: Path) -> None:
    fakes = Hanging()
    topics = [TopicSpec(id=t, topic=t, models={"decompose": ["offline"], "script": ["offline"]},
                        steps=FAST_HEARTBEAT, params={"narration": True}) for t in ("a", "b", "c")]
    engine = EngineActivities()
    inp = batch(task_queue, tmp_path, topics)
    async with workers_with(client, task_queue, workflows=[BatchWorkflow, ExplainerWorkflow],
                            activities=[fakes.validate, fakes.render, fakes.merge, *engine.activities()],
                            llm=fakes.llm, speech=fakes.speak, models=MODELS):
        handle = await client.start_workflow(BATCH_WORKFLOW, inp, id=inp.batch_id, task_queue=task_queue,
                                             result_type=BatchResult)
        for _ in range(200):
            if fakes.started == {"a", "b"}:
                break
            await asyncio.sleep(0.1)
        assert fakes.started == {"a", "b"}  # c waits for a slot (concurrency 2)
        asked = time.monotonic()
        await handle.cancel()
        with pytest.raises(WorkflowFailureError) as info:
            await handle.result()
        assert isinstance(info.value.cause, CancelledError)
        # the renders heard of it (through their heartbeats) within seconds
        assert set(fakes.cancelled_at) == {"a", "b"}
        assert max(fakes.cancelled_at.values()) - asked < 5
        llm_calls = len(fakes.llm_models)

        report = json.loads((tmp_path / "report.json").read_text())
        assert report["cancelled"] is True
        assert report["totals"] == {**report["totals"], "succeeded": 0, "failed": 0, "cancelled": 3}
        by_id = {t["id"]: t for t in results(tmp_path)}
        for t in ("a", "b"):
            assert by_id[t]["status"] == "cancelled" and by_id[t]["failed_step"] == "render"
            assert [(s["name"], s["status"]) for s in by_id[t]["steps"]] == [
                ("decompose", "succeeded"), ("script", "succeeded"), ("validate", "succeeded"),
                ("render", "cancelled")]
        assert by_id["c"]["status"] == "cancelled" and by_id["c"]["steps"] == []
        assert "**Cancelled** (at render)" in (tmp_path / "report.md").read_text()
        await replay_batch(client, inp.batch_id, ["a", "b"])

        # retry: a new run of the same batch; finished steps come from the checkpoints
        fakes.finish = True
        again = batch(task_queue, tmp_path, topics, resume_from={
            t: result_path(f"{tmp_path}/topics/{t}") for t in ("a", "b")})
        result = await client.execute_workflow(BATCH_WORKFLOW, again, id=again.batch_id,
                                               task_queue=task_queue, result_type=BatchResult)
    assert result.succeeded == 3 and result.failed == 0 and result.cancelled == 0
    assert len(fakes.llm_models) == llm_calls + 2  # only c asked the model (decompose, script)
    report = json.loads((tmp_path / "report.json").read_text())
    by_id = {t["id"]: t for t in results(tmp_path)}
    for t in ("a", "b"):
        steps = [(s["name"], s["reused"]) for s in by_id[t]["steps"]]
        assert steps == [("decompose", True), ("script", True), ("validate", True), ("render", False),
                         *[(f"narrate ({s}.{n})", False) for s in ("s1", "s2") for n in (1, 2)],
                         ("merge", False)]
    assert not any(s["reused"] for s in by_id["c"]["steps"])
    assert report["totals"]["reused_steps"] == 6
    await replay_batch(client, again.batch_id, ["a", "b", "c"])


async def test_carried_topics_are_reported_not_run(client: Client, task_queue: str, tmp_path: Path) -> None:
    fakes = Hanging()
    fakes.finish = True
    old = TopicSpec(id="old", topic="old one", models={"decompose": ["offline"], "script": ["offline"]})
    done = tmp_path / "topics" / "old" / "result.json"
    done.parent.mkdir(parents=True)
    done.write_text(json.dumps({"id": "old", "topic": "old one", "status": "succeeded",
                                "outputs": {"video": "old.mp4"}, "spec_key": spec_key(old)}))
    inp = batch(task_queue, tmp_path, [TopicSpec(id="new", topic="new", models={
        "decompose": ["offline"], "script": ["offline"]})], carried=[old])
    engine = EngineActivities()
    async with workers_with(client, task_queue, workflows=[BatchWorkflow, ExplainerWorkflow],
                            activities=[fakes.validate, fakes.render, fakes.merge, *engine.activities()],
                            llm=fakes.llm, speech=fakes.speak, models=MODELS):
        result = await client.execute_workflow(BATCH_WORKFLOW, inp, id=inp.batch_id, task_queue=task_queue,
                                               result_type=BatchResult)
    assert (result.total, result.succeeded) == (2, 2)
    lines = results(tmp_path)
    assert [t["id"] for t in lines] == ["old", "new"]
    assert lines[0]["outputs"]["video"] == "old.mp4"
    assert [t.get("carried") for t in lines] == [True, None]
    assert fakes.started == {"new"}


class FirstPlanInvalid(Hanging):
    """The first decompose answer is not JSON; later ones are."""

    def __init__(self) -> None:
        super().__init__()
        self.finish = True
        self.decomposed = 0

    @activity.defn(name="runner.llm.complete")
    async def llm(self, call: LLMCall) -> LLMResponse:
        if "decompose" in call.request.system:
            self.decomposed += 1
            if self.decomposed == 1:
                return LLMResponse(text="not a plan", model=call.model, provider="fake",
                                   provider_model="fake-1", attempt=activity.info().attempt)
        return await super().llm(call)


async def test_retry_asks_again_for_an_answer_that_was_rejected(
        client: Client, task_queue: str, tmp_path: Path) -> None:
    fakes = FirstPlanInvalid()
    topics = [TopicSpec(id="a", topic="a", models={"decompose": ["offline"], "script": ["offline"]})]
    engine = EngineActivities()
    async with workers_with(client, task_queue, workflows=[BatchWorkflow, ExplainerWorkflow],
                            activities=[fakes.validate, fakes.render, fakes.merge, *engine.activities()],
                            llm=fakes.llm, speech=fakes.speak, models=MODELS):
        inp = batch(task_queue, tmp_path, topics)
        first = await client.execute_workflow(BATCH_WORKFLOW, inp, id=inp.batch_id, task_queue=task_queue,
                                              result_type=BatchResult)
        assert first.failed == 1
        result = json.loads((tmp_path / "topics" / "a" / "result.json").read_text())
        assert result["failed_step"] == "decompose" and result["checkpoints"] == {}
        again = batch(task_queue, tmp_path, topics, resume_from={"a": result_path(f"{tmp_path}/topics/a")})
        second = await client.execute_workflow(BATCH_WORKFLOW, again, id=again.batch_id,
                                               task_queue=task_queue, result_type=BatchResult)
    assert second.succeeded == 1 and fakes.decomposed == 2  # asked again, not the rejected answer
