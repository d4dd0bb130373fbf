"""The repair loops end to end: `runner submit --wait` with the real anthropic client against the
provider simulator, whose scripted model first writes a refuted claim, then (told the refutation) a
scene with an old manim name and a code error, then (told the error) a scene that works. Real sympy,
real manim in the sandbox, real ffmpeg."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from jobs.explainer import offline
from jobs.explainer.prompts import REPAIR_FORMAT, SCRIPT_FORMAT
from runner.dev.simulate import SimConfig, Simulator
from tests.workers import results

RUNNER = str(Path(sys.executable).parent / "runner")
BUG = "        self.play(Sqaure().animate.shift(UP))\n"


class ScriptedModel:
    """Answers like the offline model, except for the script steps (see the module docstring)."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str]] = []  # (kind, user message)

    def __call__(self, system: str, user: str) -> str | None:
        answer = offline.respond(system, user)
        if answer is None:
            return None
        if f"FORMAT: {SCRIPT_FORMAT}" in system:
            script: dict[str, Any] = json.loads(answer)
            s1 = script["scenes"][0]
            if "refuted" not in user:  # the first script: a false claim
                self.requests.append(("script", user))
                s1["claims"] = [*s1["claims"], "diff(x**3, x) == 3*x"]
            else:  # regenerated: claims right, but old names and a code error in s1
                self.requests.append(("regenerate", user))
                code = s1["code"].replace("Write(", "ShowCreation(", 1)
                s1["code"] = re.sub(r"(def construct\(self\):\n)", lambda m: m.group(1) + BUG, code)
            return json.dumps(script)
        if f"FORMAT: {REPAIR_FORMAT}" in system:
            self.requests.append(("repair", user))
        return answer


def test_refuted_claims_and_broken_scene_are_repaired_through_the_simulator(
        tmp_path: Path, cli_env: dict[str, str]) -> None:
    model = ScriptedModel()
    sim = Simulator(SimConfig(log=tmp_path / "requests.jsonl"), [model]).start()
    try:
        (tmp_path / "models.yaml").write_text(
            "models:\n  sim: {provider: anthropic, model: claude-sim, api_key_env: RUNNER_SIM_KEY,\n"
            f"        base_url: \"{sim.base_url}\", rpm: 600}}\n")
        (tmp_path / "batch.yaml").write_text(
            "name: repair\njob: explainer\nmodels: {default: [sim]}\nnarration: false\n"
            "topics: [Derivative of x^3]\n")
        res = subprocess.run([RUNNER, "submit", "batch.yaml", "--wait", "--catalog", "models.yaml"],
                             cwd=tmp_path, env={**cli_env, "RUNNER_SIM_KEY": "sk-sim"},
                             capture_output=True, text=True, timeout=600)
    finally:
        sim.stop()
    assert res.returncode == 0, res.stdout + res.stderr
    [topic] = results(tmp_path / "out" / "repair")
    assert topic["status"] == "succeeded"
    steps = [(s["name"], s["status"]) for s in topic["steps"]]
    assert steps == [
        ("decompose", "succeeded"), ("script", "succeeded"), ("validate", "failed"),
        ("script (regenerate 1)", "succeeded"), ("validate (regenerate 1)", "succeeded"),
        ("render (regenerate 1)", "failed"), ("script (repair 1 s1)", "succeeded"),
        ("validate (regenerate 1) (repair 1)", "succeeded"),
        ("render (regenerate 1) (repair 1)", "succeeded"), ("merge", "succeeded")]
    assert all(s["model"] == "sim" for s in topic["steps"] if s["name"].startswith("script"))
    attempts = topic["outputs"]["attempts"]
    assert [(a["step"], a["outcome"], a["scenes"]) for a in attempts] == [
        ("validate", "claims refuted", ["s1"]),
        ("render (regenerate 1)", "code error", ["s1"]),
        ("render (regenerate 1) (repair 1)", "rendered",
         [f"s{i}" for i in range(1, len(topic["outputs"]["scenes"]) + 1)])]
    assert "diff(x**3, x) == 3*x" in attempts[0]["errors"][0]
    assert "NameError: name 'Sqaure' is not defined" in attempts[1]["errors"][0]
    # the model was told what was wrong, each time
    kinds = [k for k, _ in model.requests]
    assert kinds == ["script", "regenerate", "repair"]
    assert "diff(x**3, x) == 3*x" in model.requests[1][1]
    repair = model.requests[2][1]
    assert "Scene to fix: s1" in repair and "NameError: name 'Sqaure' is not defined" in repair
    assert "Sqaure()" in repair  # its code came along
    # ... as rendered (after the rewrites), so the error's line number points into what it shows
    assert "after automatic rewrites" in repair and "ShowCreation(" not in repair
    shown_code = repair.split("```python\n", 1)[1].split("\n```", 1)[0].splitlines()
    line = int(re.findall(r"line (\d+), in construct", repair)[-1])
    assert "Sqaure()" in shown_code[line - 1], (line, shown_code)
    # the old name was rewritten before rendering, and the report says so
    shown = [r for r in topic["outputs"]["rewrites"] if "ShowCreation" in r]
    assert len(shown) == 1
    assert re.fullmatch(r"s1 line \d+: ShowCreation -> Create \(at validate \(regenerate 1\)\)", shown[0])
    md = (tmp_path / "out" / "repair" / "report.md").read_text()
    assert "render (regenerate 1) (repair 1)" in md and "code error" in md
    assert Path(topic["outputs"]["video"]).is_file()
