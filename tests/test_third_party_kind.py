"""A job kind from another distribution: ``tally`` lives only in tests/kinds and is installed the way
any package adds a kind (a dist-info with a ``runner.jobs`` entry point on the Python path). Nothing
of runner/ knows it; the real CLI validates its manifest, runs its batch on the real embedded server
and writes a report whose per-topic lines come from the kind's own hooks."""

from __future__ import annotations

import json
import os
from pathlib import Path

from tests.conftest import REPO
from tests.test_e2e import run_cli
from tests.workers import results

KINDS = REPO / "tests" / "kinds"


def with_tally(env: dict[str, str]) -> dict[str, str]:
    return {**env, "PYTHONPATH": os.pathsep.join(p for p in (str(KINDS), env.get("PYTHONPATH")) if p)}


MANIFEST = """\
name: tally-batch
job: tally
unit: words
concurrency: 2
steps: {write: {retry: {maximum_attempts: 2}}}
topics:
  - The quick brown fox
  - {topic: one two three four five six, id: six}
  - {topic: never written, id: refused, refuse: true, unit: tokens}
"""


def test_a_kind_from_another_distribution_runs_a_batch_with_its_own_report(
        tmp_path: Path, cli_env: dict[str, str]) -> None:
    env = with_tally(cli_env)
    (tmp_path / "tally.yaml").write_text(MANIFEST)

    jobs = run_cli(["jobs"], tmp_path, env)
    assert jobs.returncode == 0, jobs.stderr
    assert "tally: counts the words of each topic (a test kind)" in jobs.stdout
    assert "steps: count -> write (LLM steps: count)" in jobs.stdout

    res = run_cli(["submit", "tally.yaml", "--wait"], tmp_path, env)
    assert res.returncode == 1, res.stdout + res.stderr  # one topic refuses to be written
    out = tmp_path / "out" / "tally-batch"
    assert res.stdout.splitlines()[-1] == str(out / "report.json")
    assert f"  ok      the-quick-brown-fox: {out / 'the-quick-brown-fox.json'}" in res.stdout
    assert "  FAILED  refused: at write: asked to refuse" in res.stdout

    report = json.loads((out / "report.json").read_text())
    assert report["job"] == "tally"
    assert report["totals"] | {"topics": 3, "succeeded": 2, "failed": 1} == report["totals"]
    topics = {t["id"]: t for t in results(out)}
    assert list(topics) == ["the-quick-brown-fox", "six", "refused"]
    fox = topics["the-quick-brown-fox"]
    assert fox["output"] == str(out / "the-quick-brown-fox.json")  # the kind's main_output hook
    assert fox["outputs"] == {"file": fox["output"], "count": 4, "unit": "words"}
    assert [(s["name"], s["status"], s["model"]) for s in fox["steps"]] == [
        ("count", "succeeded", "offline"), ("write", "succeeded", None)]
    assert json.loads(Path(fox["output"]).read_text()) == {"topic": "The quick brown fox", "count": 4}
    assert json.loads((out / "six.json").read_text())["count"] == 6
    refused = topics["refused"]
    assert refused["status"] == "failed" and refused["failed_step"] == "write"
    assert refused["output"] is None and refused["outputs"]["unit"] == "tokens"
    assert [s["attempts"] for s in refused["steps"] if s["name"] == "write"] == [1]  # not retried
    assert report["failures"] == [{"id": "refused", "topic": "never written", "status": "failed",
                                   "failed_step": "write", "error": "asked to refuse"}]

    md = (out / "report.md").read_text()
    assert f"| the-quick-brown-fox | succeeded | {fox['output']} |" in md
    assert "- tally: 4 words" in md and "- tally: 6 words" in md  # the kind's report_lines hook
    assert "**Failed at write:** asked to refuse" in md


def test_a_kinds_options_and_steps_are_checked_like_the_engines_own(
        tmp_path: Path, cli_env: dict[str, str]) -> None:
    (tmp_path / "bad.yaml").write_text(
        "name: bad\njob: tally\nunits: words\nsteps: {render: {timeout: 5m}}\n"
        "models: {count: [offline], script: [offline]}\ntopics: [a b]\n")
    res = run_cli(["validate", "bad.yaml"], tmp_path, with_tally(cli_env))
    assert res.returncode == 2, res.stdout + res.stderr
    assert res.stderr.splitlines() == [
        "bad.yaml:3: units: unknown key (allowed: budget, cache, concurrency, delivery, job, models, name, "
        "output_dir, refuse, schedule, steps, topics, unit)",
        "bad.yaml:4: steps.render: unknown step 'render' for job 'tally' (steps: count, write)",
        "bad.yaml:5: models.script: unknown step 'script' for job 'tally' (LLM steps: count, default)",
        "3 problems found; nothing was started.",
    ]
    # without the distribution on the path, the kind does not exist
    gone = run_cli(["validate", "bad.yaml"], tmp_path, cli_env)
    assert gone.returncode == 2 and "unknown job kind 'tally' (known: explainer, prompt)" in gone.stderr
