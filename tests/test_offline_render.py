"""The offline provider's scenes render with the real manim at -ql."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from jobs.explainer import offline

pytestmark = pytest.mark.slow

# A generic topic, each scene checked for its length. (Expression topics render through the
# whole pipeline in test_regenerate.py, named ones such as the Pythagorean theorem in
# tests/test_object_store.py.)
TOPICS = ["Why is the sky blue?"]


def _duration(mp4: Path) -> float:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0",
         str(mp4)],
        capture_output=True, text=True, check=True, timeout=30,
    )
    return float(out.stdout.strip())


@pytest.mark.skipif(shutil.which("ffprobe") is None, reason="ffmpeg is not installed")
@pytest.mark.parametrize("topic", TOPICS)
def test_every_scene_renders(topic: str, tmp_path: Path) -> None:
    answer = offline.script(topic, offline.decompose(topic))
    media = tmp_path / "media"  # one media dir per topic: scenes share the LaTeX cache
    for i, scene in enumerate(answer["scenes"]):
        source = tmp_path / f"scene{i}.py"
        source.write_text(scene["code"], encoding="utf-8")
        proc = subprocess.run(
            [sys.executable, "-m", "manim", "-ql", "--media_dir", str(media), str(source),
             scene["class_name"]],
            capture_output=True, text=True, cwd=tmp_path, timeout=120,
        )
        assert proc.returncode == 0, proc.stderr[-3000:]
        mp4 = media / "videos" / source.stem / "480p15" / f"{scene['class_name']}.mp4"
        assert mp4.exists()
        assert 3.0 <= _duration(mp4) <= 6.5
