"""The prompt job kind: manifest checks, a JSON answer re-asked with its parse error, and a batch
through the real CLI on the real server."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from temporalio import activity
from temporalio.client import Client

from jobs.prompt.activities import PromptActivities
from jobs.prompt.workflow import PromptWorkflow
from runner.activity.engine import EngineActivities
from runner.config.catalog import BUILTIN
from runner.config.manifest import load_manifest
from runner.contract.errors import ManifestError
from runner.contract.llm import LLMCall, LLMResponse
from runner.contract.names import BATCH_WORKFLOW, LLM_ACTIVITY
from runner.contract.types import BatchResult, TopicSpec
from runner.workflow.batch import BatchWorkflow
from tests.workers import batch_input, results, workers_with

RUNNER = str(Path(sys.executable).parent / "runner")


async def run_one_json_topic(client: Client, task_queue: str, tmp_path: Path,
                             llm: Callable[..., object],
                             models: dict[str, list[str]] | None = None) -> BatchResult:
    """A one-topic JSON prompt batch on the real server, with ``llm`` as the LLM activity."""
    chains = {"answer": ["m"]} if models is None else models
    async with workers_with(client, task_queue, workflows=[BatchWorkflow, PromptWorkflow],
                            activities=[*PromptActivities().activities(), *EngineActivities().activities()],
                            llm=llm, models=sorted({m for chain in chains.values() for m in chain})):
        return await client.execute_workflow(
            BATCH_WORKFLOW,
            batch_input(batch_id=f"p-{task_queue}", name="p", job="prompt", child_workflow="prompt.topic",
                        task_queue=task_queue, output_dir=tmp_path, concurrency=1, manifest="m",
                        topics=[TopicSpec(id="x", topic="x", models=chains,
                                          params={"prompt": "Define {topic}", "output": "json"})]),
            id=f"p-{task_queue}", task_queue=task_queue, result_type=BatchResult)


def test_prompt_must_be_given_and_hold_the_topic(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text("name: p\njob: prompt\ntopics: [a]\n")
    with pytest.raises(ManifestError) as info:
        load_manifest(path, BUILTIN)
    assert [str(p) for p in info.value.problems] == [f"{path}:1: prompt: required key is missing"]
    path.write_text("name: p\njob: prompt\nprompt: Tell me a joke\noutput: xml\ntopics: [a]\n")
    with pytest.raises(ManifestError) as info:
        load_manifest(path, BUILTIN)
    assert [str(p) for p in info.value.problems] == [
        f"{path}:3: prompt: must contain {{topic}}, where each topic goes",
        f"{path}:4: output: must be one of text, json"]


async def test_an_invalid_json_answer_is_reasked_with_the_parse_error(
        client: Client, task_queue: str, tmp_path: Path) -> None:
    seen: list[list[str]] = []

    @activity.defn(name=LLM_ACTIVITY)
    async def llm(call: LLMCall) -> LLMResponse:
        seen.append([m.content for m in call.request.messages])
        text = "Sure! here it is" if len(seen) == 1 else '```json\n{"term": "x"}\n```'
        return LLMResponse(text=text, model=call.model, provider="fake", provider_model="f",
                           attempt=1)

    result = await run_one_json_topic(client, task_queue, tmp_path, llm)
    assert result.succeeded == 1
    assert json.loads((tmp_path / "x.json").read_text()) == {"term": "x"}
    assert seen[0] == ["Define x"]
    assert seen[1][:2] == ["Define x", "Sure! here it is"]
    assert seen[1][2].startswith("That is not valid JSON (Expecting value: line 1 column 1")
    steps = results(Path(result.report_json).parent)[0]["steps"]
    assert [(s["name"], s["status"]) for s in steps] == [
        ("answer", "failed"), ("answer (re-ask 1)", "succeeded"), ("write", "succeeded")]


def test_the_example_prompt_batch_runs_end_to_end(tmp_path: Path, cli_env: dict[str, str]) -> None:
    manifest = Path(__file__).resolve().parent.parent / "configs" / "examples" / "prompts.yaml"
    res = subprocess.run([RUNNER, "submit", str(manifest), "--wait"], cwd=tmp_path, env=cli_env,
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stdout + res.stderr
    out = tmp_path / "out" / "glossary"
    assert res.stdout.splitlines()[-1] == str(out / "report.json")
    assert json.loads((out / "derivative.json").read_text())["offline"] is True
    assert (out / "limit.md").read_text().startswith("Offline answer to: Define \"limit of a function\"")
    assert [t["outputs"]["output"] for t in results(out)] == [
        str(out / "derivative.json"), str(out / "integral.json"), str(out / "limit.md")]


def test_json_answers_reject_constants_and_absurd_nesting() -> None:
    from runner.workflow.gateway import json_answer

    assert json_answer('```json\n{"a": [1, 2]}\n```') == {"a": [1, 2]}
    for bad in ("NaN", '{"x": Infinity}', "[" * 100_000):
        with pytest.raises(ValueError):
            json_answer(bad)


async def test_a_topic_fails_when_no_answer_is_valid_json(
        client: Client, task_queue: str, tmp_path: Path) -> None:
    @activity.defn(name=LLM_ACTIVITY)
    async def llm(call: LLMCall) -> LLMResponse:
        return LLMResponse(text="no JSON here", model=call.model, provider="fake", provider_model="f",
                           attempt=1)

    result = await run_one_json_topic(client, task_queue, tmp_path, llm)
    assert (result.succeeded, result.failed) == (0, 1)
    topic = results(Path(result.report_json).parent)[0]
    assert topic["error"].startswith("no valid JSON after 3 answers: Expecting value")
    assert [s["name"] for s in topic["steps"]] == ["answer", "answer (re-ask 1)", "answer (re-ask 2)"]
    assert not (tmp_path / "x.json").exists()


async def test_a_topic_without_a_model_chain_fails_instead_of_retrying_forever(
        client: Client, task_queue: str, tmp_path: Path) -> None:
    @activity.defn(name=LLM_ACTIVITY)
    async def llm(call: LLMCall) -> LLMResponse:
        raise AssertionError("no model should be called")

    result = await asyncio.wait_for(run_one_json_topic(client, task_queue, tmp_path, llm, models={}), 60)
    assert (result.succeeded, result.failed) == (0, 1)
    topic = results(Path(result.report_json).parent)[0]
    assert topic["error"] == "no model chain for step(s) answer"
