"""What a batch tells CI: JUnit XML with a testcase per topic, and the GitHub step summary, made from
a real batch's report (one topic of three fails)."""

from __future__ import annotations

import asyncio
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner
from temporalio import activity
from temporalio.client import Client

from jobs.prompt.activities import PromptActivities
from jobs.prompt.workflow import PromptWorkflow
from runner.activity.engine import EngineActivities
from runner.cli import main
from runner.client.ci import SUMMARY_ENV, ci_outputs
from runner.contract.llm import LLMCall, LLMResponse
from runner.contract.names import BATCH_WORKFLOW, LLM_ACTIVITY
from runner.contract.types import BatchResult, TopicSpec
from runner.workflow.batch import BatchWorkflow
from tests.workers import batch_input, workers_with


async def test_junit_and_step_summary_of_a_batch_with_a_failure(
        client: Client, task_queue: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    @activity.defn(name=LLM_ACTIVITY)
    async def llm(call: LLMCall) -> LLMResponse:
        text = "not json | at all" if "broken" in call.model_dump_json() else '{"ok": 1}'
        return LLMResponse(text=text, model=call.model, provider="fake", provider_model="f", attempt=1)

    topics = [TopicSpec(id=name, topic=name, models={"answer": ["m"]},
                        params={"prompt": "Define {topic}", "output": "json"})
              for name in ("alpha", "broken", "gamma")]
    async with workers_with(client, task_queue, workflows=[BatchWorkflow, PromptWorkflow],
                            activities=[*PromptActivities().activities(), *EngineActivities().activities()],
                            llm=llm, models=["m"]):
        result = await client.execute_workflow(
            BATCH_WORKFLOW, batch_input(batch_id=f"ci-{task_queue}", name="ci", job="prompt",
                                        child_workflow="prompt.topic", task_queue=task_queue,
                                        output_dir=tmp_path / "out", concurrency=3, manifest="m",
                                        topics=topics),
            id=f"ci-{task_queue}", task_queue=task_queue, result_type=BatchResult)
    assert (result.succeeded, result.failed) == (2, 1)

    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n")
    monkeypatch.setenv(SUMMARY_ENV, str(summary))
    said: list[str] = []
    junit = tmp_path / "reports" / "junit.xml"
    ci_outputs(result.report_json, junit, said.append)
    assert said == [f"junit: {junit} (3 testcases)", f"step summary appended to ${SUMMARY_ENV}"]

    root = ET.parse(junit).getroot()
    assert (root.tag, root.get("tests"), root.get("failures"), root.get("skipped")) == \
        ("testsuites", "3", "1", "0")
    cases = {c.get("name"): c for c in root.iter("testcase")}
    assert list(cases) == ["alpha", "broken", "gamma"]  # the topic file's order
    failure = cases["broken"].find("failure")
    assert failure is not None and failure.get("type") == "answer (re-ask 2)"
    assert "no valid JSON after 3 answers" in (failure.get("message") or "")
    assert cases["alpha"].find("failure") is None and cases["alpha"].get("classname") == "ci.prompt"
    assert "output: " + str(tmp_path / "out") in (cases["alpha"].findtext("system-out") or "")

    text = summary.read_text()
    assert text.startswith("earlier step\n### runner batch `ci-")  # appended, not overwritten
    assert "| 3 | 2 | 1 | 0 |" in text
    assert "| `broken` | failed | answer (re-ask 2) | no valid JSON after 3 answers" in text
    assert f"Outputs: `{tmp_path / 'out'}`" in text


async def test_submit_writes_junit_at_the_end_and_needs_wait(
        cli_env: dict[str, str], task_queue: str, tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(f"name: ci-ok\njob: prompt\nprompt: 'Define {{topic}}'\noutput_dir: {tmp_path / 'o'}\n"
                    "topics: [entropy, enthalpy]\n")
    junit = tmp_path / "junit.xml"
    res = await asyncio.to_thread(CliRunner().invoke, main, ["submit", str(path), "--junit", str(junit)],
                                  env=cli_env)
    assert res.exit_code == 2 and "--junit needs --wait" in res.output, res.output
    assert not (tmp_path / "o").exists()  # nothing was started
    env = {k: v for k, v in cli_env.items() if k != SUMMARY_ENV}
    res = await asyncio.to_thread(CliRunner().invoke, main, [
        "submit", str(path), "--wait", "--worker", "--task-queue", task_queue, "--junit", str(junit)],
        env=env)
    assert res.exit_code == 0, res.output
    root = ET.parse(junit).getroot()
    assert [c.get("name") for c in root.iter("testcase")] == ["entropy", "enthalpy"]
    assert root.get("failures") == "0"
    report = json.loads((tmp_path / "o" / "report.json").read_text())
    assert root.find("testsuite").get("name") == report["batch_id"]  # type: ignore[union-attr]
