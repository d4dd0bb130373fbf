"""End to end, as a user runs it: the real `runner` CLI, the real embedded Temporal server, the
offline model, real sympy, real manim and real ffmpeg."""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from jobs.explainer.scenes.media import probe
from runner.isolation.proc import dies_with_parent
from tests.browser import colours, load, screenshot
from tests.conftest import REPO
from tests.workers import results

RUNNER = str(Path(sys.executable).parent / "runner")


def run_cli(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([RUNNER, *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=600)


@pytest.mark.parametrize("run", [1, 2])
def test_failed_topic_exits_1_and_still_writes_the_report(
        run: int, tmp_path: Path, cli_env: dict[str, str]) -> None:
    # Run twice: the second submit comes seconds after the first, whose in-process worker's recent
    # polls must not be taken for a worker that will serve this batch (it used to hang). The model's
    # key cannot be a key (an unset one is refused before the batch starts: test_hostile).
    (tmp_path / "models.yaml").write_text(
        "models:\n  offline: {provider: offline}\n"
        "  claude: {provider: anthropic, model: x, api_key_env: RUNNER_E2E_BAD_KEY}\n")
    (tmp_path / "batch.yaml").write_text("""\
name: e2e-fail
job: explainer
models: {default: [claude]}
topics: [Derivative of x^3]
""")
    res = run_cli(["submit", "batch.yaml", "--wait", "--catalog", "models.yaml"], tmp_path,
                  {**cli_env, "RUNNER_E2E_BAD_KEY": "sk-\x01"})
    assert res.returncode == 1, res.stdout + res.stderr
    report_path = tmp_path / "out" / "e2e-fail" / "report.json"
    assert res.stdout.splitlines()[-1] == str(report_path)
    assert "0/1 topics succeeded, 1 FAILED" in res.stdout
    [topic] = results(report_path.parent)
    assert (topic["status"], topic["failed_step"]) == ("failed", "decompose")
    assert topic["steps"][0]["models_tried"] == [{
        "model": "claude", "attempts": 1, "outcome": "failed",
        "error": "model 'claude': $RUNNER_E2E_BAD_KEY holds non-printable characters"}]


@pytest.mark.slow
def test_the_simulated_example_falls_back_from_a_dead_model_and_keeps_the_key_secret(
        tmp_path: Path, cli_env: dict[str, str]) -> None:
    """The documented example (configs/examples/simulated.yaml, configs/models.simulated.yaml) against `runner
    simulate` in its own process, whose primary model answers 401 and echoes the key it was sent:
    every LLM step falls back to the next model through the real anthropic client, manim and ffmpeg
    make the videos, and the key's value appears in no workflow history (`temporal workflow show`),
    report or output of the command (its in-process worker's logs included)."""
    from runner.client.server import _free_port, temporal_binary

    port = _free_port()
    log = tmp_path / "requests.jsonl"
    catalog = (REPO / "configs" / "models.simulated.yaml").read_text()
    (tmp_path / "models.yaml").write_text(catalog.replace("127.0.0.1:8765", f"127.0.0.1:{port}"))
    (tmp_path / "batch.yaml").write_text((REPO / "configs" / "examples" / "simulated.yaml").read_text())
    key = f"sk-e2e-{uuid.uuid4().hex}"
    sim = subprocess.Popen([RUNNER, "simulate", "--port", str(port), "--rpm", "600",
                            "--model-status", "claude-opus-sim=401", "--log", str(log)],
                           env=cli_env, stdout=subprocess.PIPE, text=True, preexec_fn=dies_with_parent())
    try:
        assert sim.stdout is not None and "provider simulator on" in sim.stdout.readline()
        env = {**cli_env, "RUNNER_SIM_KEY": key}
        res = run_cli(["submit", "batch.yaml", "--wait", "--catalog", "models.yaml"], tmp_path, env)
        assert res.returncode == 0, res.stdout + res.stderr
    finally:
        sim.terminate()
        sim.wait(10)
    out = tmp_path / "out" / "simulated"
    report = json.loads((out / "report.json").read_text())
    assert report["totals"]["succeeded"] == 2
    topics = results(out)
    assert len(topics) == 2
    for topic in topics:
        steps = {s["name"]: s for s in topic["steps"]}
        for name in ("decompose", "script"):
            assert steps[name]["model"] == "sim-sonnet"
            assert [m["model"] for m in steps[name]["models_tried"]] == ["sim-opus", "sim-sonnet"]
            assert "key provided: ***" in steps[name]["models_tried"][0]["error"]
        info = asyncio.run(probe(Path(topic["outputs"]["video"])))
        assert info.codec == "h264" and info.duration_s > 3
        # it speaks (by default): each scene's narration, sentence by sentence, through the
        # simulated speech API (litellm); AAC beside H.264, one length; subtitles; a thumbnail
        video = Path(topic["outputs"]["video"])
        spoken = [s for s in topic["steps"] if s["name"].startswith("narrate (")]
        assert len(spoken) >= len(topic["outputs"]["narration"]) >= 2
        assert all(s["model"] == "sim-tts" and s["status"] == "succeeded" for s in spoken)
        streams = json.loads(subprocess.run(
            ["ffprobe", "-v", "error", "-show_entries", "stream=codec_name,duration", "-of", "json",
             str(video)], capture_output=True, text=True, check=True).stdout)["streams"]
        lengths = {st["codec_name"]: float(st["duration"]) for st in streams}
        assert set(lengths) == {"h264", "aac"} and abs(lengths["aac"] - lengths["h264"]) < 0.2
        speech = sum(s["detail"]["audio_s"] for s in spoken)
        assert lengths["h264"] >= speech  # scenes wait for their voice: no speech is cut
        srt = video.with_suffix(".srt").read_text()
        assert srt.count(" --> ") == len(spoken) and video.with_suffix(".vtt").is_file()
        assert video.with_suffix(".jpg").read_bytes()[:3] == b"\xff\xd8\xff"
        assert topic["outputs"]["audio"] and topic["outputs"]["thumbnail"] == str(video.with_suffix(".jpg"))
    # report.html, in a real headless browser: both topics with their videos, no console errors
    html = out / "report.html"
    assert f"  to look at: {html}\n" in res.stdout
    assert re.search(r"  in Temporal's Web UI: http://127\.0\.0\.1:\d+/namespaces/default/workflows/simulated-",
                     res.stdout)
    page = load(html.as_uri())
    assert page.console == []
    videos = re.findall(r'<video controls="" preload="none" src="([^"]+)" poster="([^"]+)"', page.dom)
    assert len(videos) == 2 and all((out / v).is_file() and (out / p).is_file() for v, p in videos)
    assert page.dom.count('<span class="badge succeeded">succeeded</span>') == 2
    shot = screenshot(html.as_uri(), tmp_path / "report.png")  # kept with the test's folder
    assert colours(shot) > 100  # thumbnails drawn, not a blank page
    requests = [json.loads(line) for line in log.read_text().splitlines()]
    assert sorted({(r["model"], r["status"]) for r in requests}) == [
        ("claude-opus-sim", 401), ("claude-sonnet-sim", 200), ("tts-sim", 200)]
    assert report["models"]["sim-opus"]["attempts"] == 4  # one per step: a 401 is not retried

    address = json.loads((Path(cli_env["RUNNER_HOME"]) / "server.json").read_text())
    shown = ""
    for workflow_id in [report["batch_id"], *(f"{report['batch_id']}/{t['id']}" for t in topics)]:
        show = subprocess.run([temporal_binary(), "workflow", "show", "--address",
                               f"127.0.0.1:{address['port']}", "-w", workflow_id, "-o", "json"],
                              capture_output=True, text=True, timeout=60)
        assert show.returncode == 0, show.stderr
        shown += show.stdout
    assert "key provided: ***" in shown  # the provider's echo of the key reached the history scrubbed
    assert key not in shown
    assert key not in res.stdout + res.stderr
    for path in out.rglob("*"):
        if path.is_file() and path.suffix in (".json", ".md", ".py", ".txt", ".log"):
            assert key not in path.read_text(errors="replace"), path
