"""End to end, then again: a batch of the explainer through `runner submit --wait` on the real
server with the offline model, real sympy, manim and ffmpeg makes a video per topic; resubmitted,
its validate, render and merge come from the step cache like its LLM answers, and a change reruns
exactly the steps it decides (the topic text: everything; merge settings: merges; a model: its
step)."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from jobs.explainer.scenes.media import probe
from runner.cli import main
from tests.workers import results

CATALOG = """\
models:
  offline: {provider: offline, model: offline}
  other: {provider: offline, model: other}
"""


def write(path: Path, topics: list[str], cache: Path, extra: str = "") -> None:
    path.write_text(f"name: regen\njob: explainer\nconcurrency: 2\nquality: low\nnarration: false\n"
                    f"output_dir: {path.parent / 'o'}\ncache: {cache}\n{extra}"
                    f"topics: {json.dumps(topics)}\n")


def plan(env: dict[str, str], path: Path) -> tuple[int, dict[str, Any]]:
    res = CliRunner().invoke(main, ["plan", str(path), "--json"], env=env)
    assert res.exit_code in (0, 3), res.output
    return res.exit_code, json.loads(res.output)


async def submit(env: dict[str, str], task_queue: str, path: Path) -> dict[str, Any]:
    res = await asyncio.to_thread(CliRunner().invoke, main, [
        "submit", str(path), "--wait", "--worker", "--task-queue", task_queue], env=env)
    assert res.exit_code == 0, res.output
    report_path = path.parent / "o" / "report.json"
    assert res.output.splitlines()[-1] == str(report_path)
    report: dict[str, Any] = json.loads(report_path.read_text())
    report["printed"] = res.output.splitlines()
    return report


async def check_videos(out: Path, report: dict[str, Any], *, progress: bool = True) -> None:
    """Every topic made its video from every scene, its claims verified; progress was shown (a
    batch that takes long enough)."""
    lines = report["printed"]
    if progress:  # plain lines: not a terminal
        assert any(re.match(r"\[ *\d+\.\ds\] [0-2]/2 done \([0-2] ok, 0 failed\), [0-2] running \| ",
                            line) for line in lines), lines
        # ... including each child's current step, which only its `progress` query can tell
        assert any(re.search(r" (decompose|script|validate|render|merge) \([0-5]/6\)", line)
                   for line in lines), lines
    assert (report["totals"]["succeeded"], report["totals"]["failed"]) == (2, 0)
    for topic in results(out):
        assert topic["steps"][0]["model"] == "offline" and topic["steps"][1]["model"] == "offline"
        claims = topic["outputs"]["claims"]
        assert claims and all(c["status"] == "verified" for c in claims)
        video = Path(topic["outputs"]["video"])
        assert video == out / f"{topic['id']}.mp4"
        info = await probe(video)
        assert info.codec == "h264" and info.duration_s > 3
        scenes = [await probe(Path(p)) for p in topic["outputs"]["scene_videos"]]
        assert len(scenes) >= 2
        # the merged video is made of every scene
        assert info.duration_s == pytest.approx(sum(s.duration_s for s in scenes), abs=0.5)
    assert "2/2 topics succeeded" in (out / "report.md").read_text()


def ran(out: Path) -> dict[str, Counter[str]]:
    """Per topic: how each step went (ran, cached), steps by their base name."""
    found: dict[str, Counter[str]] = {}
    for topic in results(out):
        assert topic["status"] == "succeeded", topic
        found[topic["topic"]] = Counter(
            f"{s['name']}:{'cached' if (s.get('detail') or {}).get('cached_from') else 'ran'}"
            for s in topic["steps"])
    return found


ALL_RAN = Counter({f"{s}:ran": 1 for s in ("decompose", "script", "validate", "render", "merge")})
ALL_CACHED = Counter({f"{s}:cached": 1 for s in ("decompose", "script", "validate", "render", "merge")})


@pytest.mark.slow
async def test_a_resubmit_reruns_only_what_a_change_decides(cli_env: dict[str, str], task_queue: str,
                                                              tmp_path: Path) -> None:
    (tmp_path / "models.yaml").write_text(CATALOG)
    env = {**cli_env, "RUNNER_CATALOG": str(tmp_path / "models.yaml")}
    cache, path, out = tmp_path / "cache", tmp_path / "m.yaml", tmp_path / "o"
    write(path, ["Derivative of x^2", "Factor x^2 - 1"], cache)
    code, before = plan(env, path)
    assert code == 3 and before["totals"]["work"] == 2
    assert before["topics"][0]["run"] == ["decompose", "script", "validate", "render", "merge"]
    first = await submit(env, task_queue, path)
    assert ran(out) == {"Derivative of x^2": ALL_RAN, "Factor x^2 - 1": ALL_RAN}
    assert [t["id"] for t in results(out)] == ["derivative-of-x-2", "factor-x-2-1"]
    assert first["totals"]["cached_steps"] == 0
    await check_videos(out, first)

    # the same manifest in a new output folder: nothing runs, every file is there again
    shutil.rmtree(out)
    second = await submit(env, task_queue, path)
    assert ran(out) == {"Derivative of x^2": ALL_CACHED, "Factor x^2 - 1": ALL_CACHED}
    assert (second["totals"]["llm_calls"], second["totals"]["cached_steps"]) == (0, 10)
    await check_videos(out, second, progress=False)
    [factor] = [t for t in results(out) if t["id"] == "factor-x-2-1"]
    assert all(Path(v).is_file() for v in factor["outputs"]["scene_videos"])
    assert (Path(factor["outputs"]["scene_videos"][0]).parent.parent / "script.json").is_file()
    render = next(s for s in factor["steps"] if s["name"] == "render")
    assert render["detail"]["cached_from"]["topic"] == "factor-x-2-1"
    report_md = (out / "report.md").read_text()
    assert f"| render | cached (from {first['batch_id']}) |" in report_md
    assert "steps run / from the step cache: decompose 0/2, script 0/2, validate 0/2, render 0/2" \
        in report_md

    code, now = plan(env, path)
    assert code == 0 and now["up_to_date"] and now["totals"]["cached"] == 2

    # one topic edited: only it runs, all its steps
    write(path, ["Derivative of x^3", "Factor x^2 - 1"], cache)
    code, now = plan(env, path)
    assert code == 3 and [(t["id"], t["up_to_date"]) for t in now["topics"]] == [
        ("derivative-of-x-3", False), ("factor-x-2-1", True)]
    assert now["topics"][0]["run"] == ["decompose", "script", "validate", "render", "merge"]
    assert now["totals"]["llm_calls"] == 2 and now["totals"]["steps_run"]["render"] == 1
    await submit(env, task_queue, path)
    assert ran(out) == {"Derivative of x^3": ALL_RAN, "Factor x^2 - 1": ALL_CACHED}

    # merge settings: only the merges run
    write(path, ["Derivative of x^3", "Factor x^2 - 1"], cache, "reencode: true\ncrf: 30\n")
    await submit(env, task_queue, path)
    merges_only = ALL_CACHED - Counter({"merge:cached": 1}) + Counter({"merge:ran": 1})
    assert ran(out) == {"Derivative of x^3": merges_only, "Factor x^2 - 1": merges_only}
    assert all(t["outputs"]["codec"] == "h264" for t in results(out))

    # another model for the script step: the script is asked again; it writes the same script
    # (both models are offline), so what is made from it is reused
    write(path, ["Derivative of x^3", "Factor x^2 - 1"], cache,
          "reencode: true\ncrf: 30\nmodels: {default: [offline], script: [other]}\n")
    fifth = await submit(env, task_queue, path)
    script_only = ALL_CACHED - Counter({"script:cached": 1}) + Counter({"script:ran": 1})
    assert ran(out) == {"Derivative of x^3": script_only, "Factor x^2 - 1": script_only}
    assert fifth["totals"]["llm_calls"] == 2
