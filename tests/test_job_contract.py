"""The job-kind contract at its edges: declarations checked when a kind is made, the report's hooks
guarded, and plug-ins that cannot be loaded reported without costing the other commands."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import Field

from runner.activity.report import BatchReport
from runner.contract.jobkind import JobKind, Step, TopicOutputs
from runner.contract.keys import spec_key
from runner.contract.types import PlannedTopic, ReportInput, TopicResult, TopicSpec
from runner.store.files import write_json_atomic
from runner.store.topics import iter_topics, write_topics
from tests.conftest import REPO
from tests.test_e2e import run_cli


class Outputs(TopicOutputs):
    path: str | None = None

    def main_output(self) -> str | None:
        return self.path

    def report_lines(self) -> list[str]:
        if self.path == "boom":
            raise RuntimeError("the kind's own bug")
        return [f"- made {self.path}"]


def kind(workflow: type) -> JobKind:
    return JobKind(name="k", summary="s", workflow=workflow, options=TopicOutputs, activities=lambda: [])


def test_a_kind_is_checked_when_it_is_declared() -> None:
    class NoSteps:
        outputs_type = Outputs

    class Twice:
        steps = (Step("a"), Step("a"))

    class Required(TopicOutputs):
        count: int = Field(description="no default")

    class NeedsOutputs:
        steps = (Step("a", llm=True), Step("b"))
        outputs_type = Required

    class Fine:
        steps = (Step("a", llm=True), Step("b"))
        outputs_type = Outputs

    with pytest.raises(TypeError, match=r"NoSteps.steps must declare the pipeline's steps"):
        kind(NoSteps)
    with pytest.raises(TypeError, match="step names repeat: a, a"):
        kind(Twice)
    with pytest.raises(TypeError, match="every field of Required needs a default"):
        kind(NeedsOutputs)
    fine = kind(Fine)
    assert (fine.step_names, fine.llm_steps, fine.outputs) == (("a", "b"), ("a",), Outputs)


def report_for(tmp_path: Path, outputs: dict[str, object]) -> tuple[dict[str, object], str]:
    """A one-topic batch's report: the topic's line of results.jsonl, and report.md."""
    spec = TopicSpec(id="t", topic="T", models={})
    write_json_atomic(tmp_path / "topics" / "t" / "result.json",
                      TopicResult(id="t", topic="T", status="succeeded", outputs=outputs,
                                  spec_key=spec_key(spec)).model_dump(mode="json"))
    file = write_topics(tmp_path, [PlannedTopic(spec=spec)])
    inp = ReportInput(batch_id="b", name="b", job="k", manifest="m.yaml", output_dir=str(tmp_path),
                      started_at="2026-11-29T00:00:00+00:00", finished_at="2026-11-29T00:00:01+00:00",
                      topics_file=file.path)
    report = BatchReport(inp, Outputs)
    [topic] = [report.add(index, planned) for index, planned in iter_topics(file.path)]
    return topic, report.markdown()


def test_the_report_draws_a_topic_with_its_kinds_hooks(tmp_path: Path) -> None:
    topic, md = report_for(tmp_path, {"path": "out/t.bin"})
    assert topic["output"] == "out/t.bin" and topic["outputs"] == {"path": "out/t.bin"}
    assert "| t | succeeded | out/t.bin |" in md and "- made out/t.bin" in md


def test_a_failing_hook_or_outputs_that_do_not_fit_cost_only_that_topics_details(tmp_path: Path) -> None:
    topic, md = report_for(tmp_path, {"path": "boom"})
    assert topic["output"] is None
    assert "_(details unavailable: Outputs's report hooks failed: RuntimeError: the kind's own bug)_" in md
    topic, md = report_for(tmp_path, {"path": ["not", "a", "path"]})
    assert topic["output"] is None and topic["outputs"] == {"path": ["not", "a", "path"]}
    assert "_(details unavailable: its outputs do not fit Outputs: 1 validation error for Outputs)_" in md


def test_a_plugin_that_cannot_be_loaded_is_reported_and_the_rest_works(
        tmp_path: Path, cli_env: dict[str, str]) -> None:
    env = {**cli_env, "PYTHONPATH": str(REPO / "tests" / "kinds_broken")}
    res = run_cli(["--help"], tmp_path, env)
    assert res.returncode == 0, res.stderr
    assert res.stderr.splitlines() == [
        "warning: command broken (no_such_module_of_runner_tests:command) cannot be loaded: "
        "ModuleNotFoundError: No module named 'no_such_module_of_runner_tests'"]
    assert "  render " in res.stdout and "  submit " in res.stdout
    jobs = run_cli(["jobs"], tmp_path, env)
    assert jobs.returncode == 1
    assert jobs.stderr.splitlines()[-1] == (
        "error: job kind 'broken' (no_such_module_of_runner_tests:JOB) cannot be loaded: "
        "ModuleNotFoundError: No module named 'no_such_module_of_runner_tests'")
