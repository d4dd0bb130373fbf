"""The scene lint against ordinary scene code: a gallery of at least 60 scenes written the way
manim's documentation examples and models write them (plots, 3D, updaters, ValueTracker,
MathTex/Tex, braces, tables, graphs, camera moves, LaggedStart, ...). Every one passes the policy
with nothing to rewrite; a sample renders here through the sandbox, all of them in
`bench/gallery.py` (`make bench`)."""

from __future__ import annotations

import ast
import asyncio
from pathlib import Path

import pytest

from jobs.explainer.scenes.check import check_scene
from jobs.explainer.scenes.render import render_scene

GALLERY = sorted((Path(__file__).parent / "scenes" / "gallery").glob("*.py"))
# one from the middle (the suite's tiny run of bench/gallery.py renders the first)
SAMPLE = GALLERY[len(GALLERY) // 2:][:1]


def test_the_gallery_is_large_and_each_scene_is_one_scene() -> None:
    assert len(GALLERY) >= 60
    for path in GALLERY:
        classes = [n for n in ast.parse(path.read_text()).body if isinstance(n, ast.ClassDef)]
        assert len(classes) == 1, path.name


@pytest.mark.parametrize("path", GALLERY, ids=[p.stem for p in GALLERY])
def test_ordinary_scenes_pass_the_policy(path: Path) -> None:
    checked = check_scene(path.read_text())
    assert checked.ok and not checked.rewrites, (checked.violations, checked.problems, checked.rewrites)


@pytest.mark.parametrize("path", SAMPLE, ids=[p.stem for p in SAMPLE])
def test_a_sample_of_the_gallery_renders(path: Path, tmp_path: Path) -> None:
    result = asyncio.run(render_scene(path.read_text(), output=tmp_path / "out.mp4", quality="low",
                                      timeout=300, name=path.name))
    assert result.outcome == "ok", result.message
    assert (tmp_path / "out.mp4").stat().st_size > 1000
