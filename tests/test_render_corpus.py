"""Ordinary scenes (Text, MathTex, Axes and plots, transforms, updaters, camera moves, ...) render
through the sandbox at every quality (each scene at low, a few at medium and high): real manim, real
LaTeX, the pipeline's own render function."""

from __future__ import annotations

import asyncio
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from jobs.explainer.scenes.check import check_scene
from jobs.explainer.scenes.render import RenderResult, render_scene

SCENES = sorted((Path(__file__).parent / "scenes" / "ok").glob("*.py"))
SIZES = {"low": (854, 480), "medium": (1280, 720), "high": (1920, 1080)}


def test_the_corpus_is_large_enough_and_passes_the_policy() -> None:
    assert len(SCENES) >= 10
    for path in SCENES:
        checked = check_scene(path.read_text())
        assert checked.ok and not checked.rewrites, (path.name, checked)


def probe(path: Path) -> dict[str, Any]:
    out = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
                          "stream=width,height,codec_name:format=duration", "-of", "json", str(path)],
                         capture_output=True, check=True, text=True).stdout
    data = json.loads(out)
    return {**data["streams"][0], "duration": float(data["format"]["duration"])}


# Every scene renders at low; the qualities above differ only in manim's resolution and frame rate,
# so two scenes each check them, between them LaTeX, plots, updaters and a camera move (every scene
# at every quality took about 3 minutes of the suite's 15, half of them at medium or high 80 s).
ABOVE = {"medium": ["math_tex_equation.py", "camera_zoom.py"],
         "high": ["value_tracker_updater.py"]}  # 1080p60: the slowest, one scene
# At low, every other scene here: the rest are ordinary scenes that the render corpus shares with
# the gallery (tests/scenes/gallery, all rendered by bench/gallery.py) in kind.
AT = {"low": SCENES[::2], **{q: [p for p in SCENES if p.name in names] for q, names in ABOVE.items()}}


def test_the_higher_qualities_render_scenes_of_the_corpus() -> None:
    assert len(AT["low"]) >= 6
    assert all(len(AT[q]) == len(names) for q, names in ABOVE.items())


@pytest.mark.parametrize("quality", list(SIZES))
def test_every_scene_renders_at(quality: str, tmp_path: Path) -> None:
    scenes = AT[quality]

    async def render_all() -> list[RenderResult]:
        slots = asyncio.Semaphore(2)  # two cores

        async def one(path: Path) -> RenderResult:
            async with slots:
                return await render_scene(path.read_text(), output=tmp_path / f"{path.stem}.mp4",
                                          quality=quality, timeout=300, name=path.name)
        return list(await asyncio.gather(*(one(p) for p in scenes)))

    results = asyncio.run(render_all())
    failed = {p.name: r.message for p, r in zip(scenes, results, strict=True) if r.outcome != "ok"}
    assert not failed, failed
    for path in scenes:
        info = probe(tmp_path / f"{path.stem}.mp4")
        assert (info["width"], info["height"]) == SIZES[quality], path.name
        assert info["codec_name"] == "h264" and info["duration"] > 0.5, (path.name, info)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".render-")]
