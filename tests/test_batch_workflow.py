"""The batch and explainer workflows on the real embedded Temporal server, with fake step activities
registered under the real activity names (the engine's own report activities are real)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from temporalio import activity
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.exceptions import ApplicationError
from temporalio.worker import Replayer

from jobs.explainer.types import (
    MERGE_ACTIVITY,
    RENDER_ACTIVITY,
    VALIDATE_ACTIVITY,
    ClaimCheck,
    MergeInput,
    MergeOutput,
    RenderInput,
    RenderOutput,
    SceneFile,
    SceneIssue,
    ValidateInput,
    ValidateOutput,
)
from jobs.explainer.workflow import ExplainerWorkflow
from runner.activity.engine import EngineActivities
from runner.contract.llm import LLMCall, LLMResponse, SpeechCall, SpeechResponse
from runner.contract.names import BATCH_WORKFLOW, LLM_ACTIVITY, QUOTA_EXHAUSTED, SPEECH_ACTIVITY, child_id
from runner.contract.types import BatchResult, TopicSpec
from runner.workflow.batch import BatchWorkflow
from tests.workers import batch_input, results, workers_with

PLAN = {"title": "T", "scenes": [{"id": "s1", "title": "a"}, {"id": "s2", "title": "b"}]}
MODELS = ["offline", "broken", "quota", "slow"]
SCRIPT = {"scenes": [{"id": s, "class_name": f"C{s}", "code": "pass", "claims": ["1 == 1"],
                      "narration": f"Scene {s}. {said}"}
                     for s, said in (("s1", "It says one thing."), ("s2", "Its answer is 42."))]}


class Fakes:
    """Step activities that record what they saw."""

    def __init__(self) -> None:
        self.rendering = 0
        self.max_rendering = 0
        self.merge_calls: dict[str, int] = {}
        self.llm_models: list[str] = []
        self.spoken: list[str] = []
        self.quota_gone = asyncio.Event()

    @activity.defn(name=LLM_ACTIVITY)
    async def llm(self, call: LLMCall) -> LLMResponse:
        self.llm_models.append(call.model)
        if call.model == "broken":
            raise ApplicationError("401 invalid key", {"attempt": activity.info().attempt},
                                   type="AuthError", non_retryable=True)
        if call.model == "quota":
            self.quota_gone.set()
            raise ApplicationError("credit balance is too low", {"attempt": activity.info().attempt},
                                   type=QUOTA_EXHAUSTED, non_retryable=True)
        if call.model == "slow":  # answers once another topic has used up "quota", and a moment later
            await self.quota_gone.wait()
            await asyncio.sleep(1.0)
        answer: Any = PLAN if "decompose" in call.request.system else SCRIPT
        if "explainer.repair" in call.request.system:  # the same (still failing) scene back
            answer = SCRIPT["scenes"][0]
        return LLMResponse(text=json.dumps(answer), model=call.model, provider="fake",
                           provider_model="fake-1", attempt=activity.info().attempt)

    @activity.defn(name=SPEECH_ACTIVITY)
    async def speak(self, call: SpeechCall) -> SpeechResponse:
        self.spoken.append(call.request.text)
        return SpeechResponse(audio=call.request.output, duration_s=1.0, model=call.model,
                              provider="fake", provider_model="fake-voice",
                              characters=len(call.request.text), attempt=activity.info().attempt)

    @activity.defn(name=VALIDATE_ACTIVITY)
    async def validate(self, inp: ValidateInput) -> ValidateOutput:
        wrong = "wrong" in inp.topic_dir
        return ValidateOutput(
            scenes=[SceneFile(id=s.id, path=f"{inp.topic_dir}/{s.id}.py", class_name=s.class_name)
                    for s in inp.script.scenes],
            claims=[ClaimCheck(claim="1 == 2" if wrong else "1 == 1", scene="s1",
                               status="refuted" if wrong else "verified", detail="1 != 2")],
            attempt=activity.info().attempt)

    @activity.defn(name=RENDER_ACTIVITY)
    async def render(self, inp: RenderInput) -> RenderOutput:
        self.rendering += 1
        self.max_rendering = max(self.max_rendering, self.rendering)
        try:
            await asyncio.sleep(0.3)
            bad = ["s1"] if "unrenderable" in inp.topic_dir else []
            return RenderOutput(
                videos=[f"{inp.topic_dir}/{s.id}.mp4" for s in inp.scenes if s.id not in bad],
                rendered=[s.id for s in inp.scenes if s.id not in bad],
                failed=[SceneIssue(scene=b, kind="code", message="NameError: name 'Wiggly' is not "
                                   "defined") for b in bad],
                attempt=activity.info().attempt)
        finally:
            self.rendering -= 1

    @activity.defn(name=MERGE_ACTIVITY)
    async def merge(self, inp: MergeInput) -> MergeOutput:
        n = self.merge_calls[inp.output] = self.merge_calls.get(inp.output, 0) + 1
        if "flaky" in inp.output and n == 1:
            raise RuntimeError("ffmpeg crashed")  # retryable: Temporal tries again
        return MergeOutput(video=inp.output, duration_s=6.0, codec="h264", width=854, height=480,
                           reencoded=False, attempt=activity.info().attempt)


async def run_batch(client: Client, task_queue: str, tmp_path: Path, topics: list[TopicSpec],
                    concurrency: int, fakes: Fakes
                    ) -> tuple[BatchResult, dict[str, Any], list[dict[str, Any]]]:
    """Run a batch; returns its result, report.json and results.jsonl."""
    engine = EngineActivities()
    async with workers_with(client, task_queue, workflows=[BatchWorkflow, ExplainerWorkflow],
                            activities=[fakes.validate, fakes.render, fakes.merge, *engine.activities()],
                            llm=fakes.llm, speech=fakes.speak, models=MODELS):
        result = await client.execute_workflow(
            BATCH_WORKFLOW,
            batch_input(batch_id=f"b-{task_queue}", name="t", job="explainer",
                        child_workflow="explainer.topic", task_queue=task_queue,
                        output_dir=tmp_path, concurrency=concurrency, manifest="m.yaml",
                        topics=topics),
            id=f"b-{task_queue}", task_queue=task_queue, result_type=BatchResult)
    report = json.loads(Path(result.report_json).read_text())
    await replay_batch(client, f"b-{task_queue}", [t.id for t in topics])
    return result, report, results(tmp_path)


async def replay_batch(client: Client, batch_id: str, topic_ids: list[str]) -> None:
    """Replay the recorded histories of a batch and its children against the current workflow
    code: a change that would break running workflows fails here."""
    replayer = Replayer(workflows=[BatchWorkflow, ExplainerWorkflow],
                        data_converter=pydantic_data_converter)
    for workflow_id in [batch_id, *(child_id(batch_id, t) for t in topic_ids)]:
        history = await client.get_workflow_handle(workflow_id).fetch_history()
        await replayer.replay_workflow(history)


def spec(topic_id: str, chain: list[str] | None = None, **params: Any) -> TopicSpec:
    chain = chain or ["offline"]
    return TopicSpec(id=topic_id, topic=topic_id, models={"decompose": chain, "script": chain},
                     params={"quality": "low", "narration": True, **params})  # it speaks (fakes)


async def test_fan_out_respects_concurrency_and_isolates_failures(
        client: Client, task_queue: str, tmp_path: Path) -> None:
    fakes = Fakes()
    topics = [spec(f"t{i}") for i in range(4)] + [spec("unrenderable", code_repairs=1),
                                                  spec("wrong", claim_regenerations=1)]
    result, report, lines = await run_batch(client, task_queue, tmp_path, topics, 2, fakes)

    assert (result.total, result.succeeded, result.failed) == (6, 4, 2)
    assert fakes.max_rendering == 2
    by_id = {t["id"]: t for t in lines}
    assert [t["id"] for t in lines] == [t.id for t in topics]
    ok = by_id["t0"]
    assert ok["status"] == "succeeded"
    narrate = [f"narrate ({s}.{n})" for s in ("s1", "s2") for n in (1, 2)]  # a call per sentence
    assert [s["name"] for s in ok["steps"]] == ["decompose", "script", "validate", "render", *narrate,
                                                "merge"]
    assert fakes.spoken.count("It says one thing.") == 4  # the four topics that rendered
    # what a narration states that no claim of its scene checks is flagged (the topic succeeds)
    assert ok["outputs"]["narration_unchecked"] == [
        's2: "Its answer is 42." names 42, which no claim of the scene has']
    assert all(s["status"] == "succeeded" and s["attempts"] == 1 for s in ok["steps"])
    assert ok["steps"][0]["model"] == "offline"
    assert ok["outputs"]["video"] == f"{tmp_path}/t0.mp4"
    bad = by_id["unrenderable"]
    assert (bad["status"], bad["failed_step"]) == ("failed", "render (repair 1)")
    assert bad["error"] == ("scene s1 still fails after 1 repair round(s): "
                            "NameError: name 'Wiggly' is not defined")
    assert [(s["name"], s["status"]) for s in bad["steps"][2:]] == [
        ("validate", "succeeded"), ("render", "failed"), ("script (repair 1 s1)", "succeeded"),
        ("validate (repair 1)", "succeeded"), ("render (repair 1)", "failed")]
    assert [a["outcome"] for a in bad["outputs"]["attempts"]] == ["code error", "code error"]
    refuted = by_id["wrong"]
    assert (refuted["status"], refuted["failed_step"]) == ("failed", "validate (regenerate 1)")
    assert "1 claim(s) refuted, e.g. 1 == 2 (1 != 2) after 1 regeneration(s)" in refuted["error"]
    assert [s["name"] for s in refuted["steps"]] == [
        "decompose", "script", "validate", "script (regenerate 1)", "validate (regenerate 1)"]
    # report.json sums up; the failures are listed there too (first line of the error)
    assert "topics" not in report and report["results"] == "results.jsonl"
    assert report["totals"] | {"topics": 6, "succeeded": 4, "failed": 2} == report["totals"]
    assert [(f["id"], f["status"], f["failed_step"]) for f in report["failures"]] == [
        ("unrenderable", "failed", "render (repair 1)"), ("wrong", "failed", "validate (regenerate 1)")]
    assert report["failures"][0]["error"] == bad["error"]
    md = Path(result.report_md).read_text()
    assert "4/6 topics succeeded, 2 failed" in md and "**Failed at render (repair 1):**" in md
    assert '- narration not checked by a claim: s2: "Its answer is 42." names 42' in md
    assert md.index("## Failures") < md.index("## Topics")


async def test_fallback_chain_and_retries_are_recorded(
        client: Client, task_queue: str, tmp_path: Path) -> None:
    fakes = Fakes()
    result, report, lines = await run_batch(
        client, task_queue, tmp_path, [spec("flaky", ["broken", "offline"])], 1, fakes)

    assert result.succeeded == 1
    steps = {s["name"]: s for s in lines[0]["steps"]}
    decompose = steps["decompose"]
    assert decompose["model"] == "offline"
    assert decompose["models_tried"] == [
        {"model": "broken", "attempts": 1, "outcome": "failed", "error": "401 invalid key"},
        {"model": "offline", "attempts": 1, "outcome": "answered", "error": None},
    ]
    assert fakes.llm_models == ["broken", "offline", "broken", "offline"]
    assert steps["merge"]["attempts"] == 2
    assert report["models"]["broken"]["answered"] == 0
    assert report["models"]["offline"]["answered"] == 2 + 4  # decompose, script; four sentences spoken


async def test_a_model_out_of_quota_is_skipped_by_the_other_topics_too(
        client: Client, task_queue: str, tmp_path: Path) -> None:
    """Topic a finds "quota" exhausted while topic b is running, and c starts later: neither calls
    it (the running one is told through the parent, the later one gets it in its input)."""
    fakes = Fakes()
    a = spec("a", ["quota", "offline"])
    b = TopicSpec(id="b", topic="b", models={"decompose": ["slow"], "script": ["quota", "offline"]},
                  params={"quality": "low"})
    c = spec("c", ["quota", "offline"])
    result, report, lines = await run_batch(client, task_queue, tmp_path, [a, b, c], 2, fakes)

    assert result.succeeded == 3
    assert fakes.llm_models.count("quota") == 1
    steps = {t["id"]: {s["name"]: s for s in t["steps"]} for t in lines}
    assert steps["a"]["decompose"]["models_tried"][0]["outcome"] == "failed"
    skipped = {"model": "quota", "attempts": 0, "outcome": "skipped",
               "error": "quota ran out earlier in this batch"}
    assert steps["b"]["script"]["models_tried"][0] == skipped
    assert steps["c"]["decompose"]["models_tried"][0] == skipped
    assert steps["c"]["script"]["models_tried"][0] == skipped
    assert report["models_out"] == ["quota"]
    assert steps["a"]["script"]["models_tried"][0] == skipped
    assert (report["models"]["quota"]["calls"], report["models"]["quota"]["skipped"]) == (1, 4)
    assert "out of quota during the batch (skipped afterwards): quota" in Path(result.report_md).read_text()
