"""End to end, as a user runs it: the real `runner` CLI, the real embedded Temporal server, the
offline model, real sympy, real manim and real ffmpeg."""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from jobs.explainer.media import probe

RUNNER = str(Path(sys.executable).parent / "runner")


def run_cli(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([RUNNER, *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=600)


@pytest.mark.slow
def test_submit_wait_renders_a_video_per_topic(tmp_path: Path, cli_env: dict[str, str]) -> None:
    (tmp_path / "batch.yaml").write_text("""\
name: e2e-limits
job: explainer
concurrency: 2
topics:
  - Limit of sin(x)/x as x -> 0
  - topic: Factor x^2 - 1
    id: factor
""")
    res = run_cli(["submit", "batch.yaml", "--wait"], tmp_path, cli_env)
    assert res.returncode == 0, res.stdout + res.stderr
    lines = res.stdout.splitlines()
    report_path = tmp_path / "out" / "e2e-limits" / "report.json"
    assert lines[-1] == str(report_path)
    assert any("done | running:" in line for line in lines)  # progress was shown
    # ... including each child's current step, which only its `progress` query can tell
    assert any(re.search(r" (decompose|script|validate|render|merge) \([0-4]/5\)", line)
               for line in lines), lines

    report = json.loads(report_path.read_text())
    assert report["totals"]["succeeded"] == 2 and report["totals"]["failed"] == 0
    assert [t["id"] for t in report["topics"]] == ["limit-of-sin-x-x-as-x-0", "factor"]
    for topic in report["topics"]:
        steps = [(s["name"], s["status"]) for s in topic["steps"]]
        assert steps == [(n, "succeeded") for n in ("decompose", "script", "validate", "render",
                                                    "merge")]
        assert topic["steps"][0]["model"] == "offline" and topic["steps"][1]["model"] == "offline"
        claims = topic["outputs"]["claims"]
        assert claims and all(c["status"] == "verified" for c in claims)

        video = Path(topic["outputs"]["video"])
        assert video == tmp_path / "out" / "e2e-limits" / f"{topic['id']}.mp4"
        info = asyncio.run(probe(video))
        assert info.codec == "h264" and info.duration_s > 3
        scenes = [asyncio.run(probe(Path(p))) for p in topic["outputs"]["scene_videos"]]
        assert len(scenes) >= 2
        # the merged video is made of every scene
        assert info.duration_s == pytest.approx(sum(s.duration_s for s in scenes), abs=0.5)
    assert "2/2 topics succeeded" in (report_path.parent / "report.md").read_text()


@pytest.mark.parametrize("run", [1, 2])
def test_failed_topic_exits_1_and_still_writes_the_report(
        run: int, tmp_path: Path, cli_env: dict[str, str]) -> None:
    # Run twice: the second submit comes seconds after the first, whose in-process worker's recent
    # polls must not be taken for a worker that will serve this batch (it used to hang).
    (tmp_path / "models.yaml").write_text(
        "models:\n  offline: {provider: offline}\n"
        "  claude: {provider: anthropic, model: x, api_key_env: RUNNER_E2E_UNSET_KEY}\n")
    (tmp_path / "batch.yaml").write_text("""\
name: e2e-fail
job: explainer
models: {default: [claude]}
topics: [Derivative of x^3]
""")
    res = run_cli(["submit", "batch.yaml", "--wait", "--catalog", "models.yaml"], tmp_path, cli_env)
    assert res.returncode == 1, res.stdout + res.stderr
    report_path = tmp_path / "out" / "e2e-fail" / "report.json"
    assert res.stdout.splitlines()[-1] == str(report_path)
    assert "0/1 topics succeeded, 1 FAILED" in res.stdout
    topic = json.loads(report_path.read_text())["topics"][0]
    assert (topic["status"], topic["failed_step"]) == ("failed", "decompose")
    assert topic["steps"][0]["models_tried"] == [{
        "model": "claude", "attempts": 1, "outcome": "failed",
        "error": "model 'claude': $RUNNER_E2E_UNSET_KEY is not set on this worker"}]


@pytest.mark.slow
def test_a_batch_through_the_provider_simulator(tmp_path: Path, cli_env: dict[str, str]) -> None:
    """`runner simulate` in its own process; the batch's LLM steps go through the real anthropic
    (decompose) and litellm (script) clients to it; manim and ffmpeg make the video."""
    from runner.server import _free_port

    port = _free_port()
    log = tmp_path / "requests.jsonl"
    sim = subprocess.Popen([RUNNER, "simulate", "--port", str(port), "--rpm", "600",
                            "--log", str(log)], env=cli_env, stdout=subprocess.PIPE, text=True)
    try:
        assert sim.stdout is not None and "provider simulator on" in sim.stdout.readline()
        (tmp_path / "models.yaml").write_text(f"""\
models:
  sim-claude: {{provider: anthropic, model: claude-sim, api_key_env: SIM_KEY,
               base_url: "http://127.0.0.1:{port}"}}
  sim-free:   {{provider: litellm, model: openai/free-sim, api_key_env: SIM_KEY,
               base_url: "http://127.0.0.1:{port}/v1"}}
""")
        (tmp_path / "batch.yaml").write_text("""\
name: e2e-sim
job: explainer
models: {decompose: [sim-claude], script: [sim-free]}
topics: [Maclaurin series of cos(x)]
""")
        env = {**cli_env, "SIM_KEY": "sk-e2e-not-a-real-key"}
        res = run_cli(["submit", "batch.yaml", "--wait", "--catalog", "models.yaml"], tmp_path, env)
        assert res.returncode == 0, res.stdout + res.stderr
    finally:
        sim.terminate()
        sim.wait(10)
    report = json.loads((tmp_path / "out" / "e2e-sim" / "report.json").read_text())
    topic = report["topics"][0]
    steps = {s["name"]: s for s in topic["steps"]}
    assert (steps["decompose"]["model"], steps["script"]["model"]) == ("sim-claude", "sim-free")
    assert report["models"]["sim-claude"]["answered"] == 1
    assert report["models"]["sim-free"]["answered"] == 1
    requests = [json.loads(line) for line in log.read_text().splitlines()]
    assert [(r["api"], r["model"], r["status"]) for r in requests] == [
        ("anthropic", "claude-sim", 200), ("openai", "free-sim", 200)]
    info = asyncio.run(probe(Path(topic["outputs"]["video"])))
    assert info.codec == "h264" and info.duration_s > 3
