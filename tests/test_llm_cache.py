"""The step cache for LLM answers (a manifest's `cache:`): a batch asks again only what changed; an
answer the workflow rejected is never kept; --refresh and --no-cache bypass it."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result
from temporalio.client import Client

from jobs.prompt.activities import PromptActivities
from jobs.prompt.workflow import PromptWorkflow
from runner.activity.engine import EngineActivities
from runner.activity.llm.activity import LLMActivities
from runner.cli import main
from runner.client.ci import ci_outputs
from runner.config.catalog import Catalog, ModelSpec
from runner.contract.names import BATCH_WORKFLOW
from runner.contract.types import BatchResult, TopicSpec
from runner.workflow.batch import BatchWorkflow
from tests.workers import batch_input, results, workers_with


def entries(cache: Path) -> int:
    return sum(1 for _ in (cache / "entries").rglob("meta.json")) if cache.is_dir() else 0


async def test_kept_answers_are_reused_across_batches_and_rejected_ones_never(
        client: Client, task_queue: str, tmp_path: Path) -> None:
    asked: list[str] = []

    def responder(system: str, user: str) -> str | None:
        asked.append(user)
        return "not json at all" if "broken" in user else '{"ok": 1}'

    llm = LLMActivities(Catalog(models={"m": ModelSpec(provider="offline")}), [responder])
    cache = tmp_path / "cache"
    topics = [TopicSpec(id=name, topic=name, models={"answer": ["m"]},
                        params={"prompt": "Define {topic}", "output": "json"})
              for name in ("alpha", "broken", "gamma")]

    async def batch(n: int) -> BatchResult:
        inp = batch_input(batch_id=f"c{n}-{task_queue}", name="c", job="prompt",
                          child_workflow="prompt.topic", task_queue=task_queue,
                          output_dir=tmp_path / f"out{n}", concurrency=3, manifest="m", topics=topics,
                          cache=str(cache))
        result: BatchResult = await client.execute_workflow(
            BATCH_WORKFLOW, inp, id=inp.batch_id, task_queue=task_queue, result_type=BatchResult)
        return result

    async with workers_with(client, task_queue, workflows=[BatchWorkflow, PromptWorkflow],
                            activities=[*PromptActivities().activities(), *EngineActivities().activities()],
                            llm=llm.complete, models=llm.catalog):
        first = await batch(1)
        assert (first.succeeded, first.failed) == (2, 1)
        assert len(asked) == 5  # alpha, gamma; broken: its answer and two re-asks
        assert entries(cache) == 2  # the rejected answers are not kept
        second = await batch(2)  # another batch, another folder, the same cache
    assert (second.succeeded, second.failed) == (2, 1)
    assert len(asked) == 8  # only broken's three asks again
    report = json.loads(Path(second.report_json).read_text())
    assert (report["totals"]["llm_calls"], report["totals"]["cached_llm_calls"]) == (3, 2)
    assert report["totals"]["cost_usd"] == 0
    alpha = next(r for r in results(tmp_path / "out2") if r["id"] == "alpha")
    [step] = [s for s in alpha["steps"] if s["name"] == "answer"]
    assert step["models_tried"] == [{"model": "m", "attempts": 0, "outcome": "cached", "error": None}]
    assert step["detail"]["cached_from"]["batch"] == f"c1-{task_queue}"
    assert step["detail"]["cached_from"]["topic"] == "alpha"
    assert "answers from the step cache" in Path(second.report_md).read_text()
    junit = tmp_path / "junit.xml"
    ci_outputs(second.report_json, junit, lambda _: None)
    assert "from the step cache: answer" in junit.read_text()


def manifest(path: Path, topics: list[str], cache: Path) -> Path:
    path.write_text(f"name: cached\njob: prompt\nprompt: 'Define {{topic}}'\n"
                    f"output_dir: {path.parent / 'o'}\ncache: {cache}\ntopics: {json.dumps(topics)}\n")
    return path


async def submit(env: dict[str, str], task_queue: str, path: Path, *extra: str) -> Result:
    return await asyncio.to_thread(CliRunner().invoke, main, [
        "submit", str(path), "--wait", "--worker", "--task-queue", task_queue, *extra], env=env)


def calls(path: Path) -> tuple[Any, Any]:
    totals = json.loads((path.parent / "o" / "report.json").read_text())["totals"]
    return totals["llm_calls"], totals["cached_llm_calls"]


async def test_a_resubmit_asks_only_what_changed(cli_env: dict[str, str], task_queue: str,
                                                 tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    path = manifest(tmp_path / "m.yaml", ["entropy", "enthalpy", "exergy"], cache)
    assert (res := await submit(cli_env, task_queue, path)).exit_code == 0, res.output
    assert calls(path) == (3, 0)
    first = {r["id"]: Path(r["output"]).read_text() for r in results(tmp_path / "o")}
    assert (res := await submit(cli_env, task_queue, path)).exit_code == 0, res.output
    assert calls(path) == (0, 3)
    assert {r["id"]: Path(r["output"]).read_text() for r in results(tmp_path / "o")} == first
    manifest(path, ["entropy", "enthalpy", "heat of fusion", "heat capacity"], cache)  # 1 edited, 1 new
    assert (res := await submit(cli_env, task_queue, path)).exit_code == 0, res.output
    assert calls(path) == (2, 2)
    assert (res := await submit(cli_env, task_queue, path, "--refresh", "entropy")).exit_code == 0
    assert calls(path) == (1, 3)
    assert (res := await submit(cli_env, task_queue, path, "--no-cache")).exit_code == 0
    assert calls(path) == (4, 0)
    res = await submit(cli_env, task_queue, path, "--refresh", "nosuch")
    assert res.exit_code == 2 and "--refresh: no topic 'nosuch'" in res.output, res.output
