"""Merging with real ffmpeg: parts are probed, matching parts are copied, mismatched ones re-encoded,
and a broken part never yields a file."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from jobs.explainer.scenes.media import merge_videos, probe
from runner.contract.errors import PermanentStepError


def clip(path: Path, size: str, seconds: float, rate: int = 15) -> Path:
    subprocess.run(
        ["ffmpeg", "-v", "error", "-f", "lavfi", "-i", f"testsrc=size={size}:rate={rate}",
         "-t", str(seconds), "-c:v", "libx264", "-pix_fmt", "yuv420p", "-y", str(path)],
        check=True)
    return path


async def test_matching_parts_are_concatenated_without_reencoding(tmp_path: Path) -> None:
    parts = [clip(tmp_path / "a.mp4", "320x240", 1.0), clip(tmp_path / "b.mp4", "320x240", 2.0)]
    info = await merge_videos(parts, tmp_path / "out.mp4")
    assert not info.reencoded
    assert (info.codec, info.width, info.height) == ("h264", 320, 240)
    assert info.duration_s == pytest.approx(3.0, abs=0.15)
    assert (await probe(tmp_path / "out.mp4")).duration_s == pytest.approx(3.0, abs=0.15)


async def test_mismatched_parts_are_reencoded_to_the_first_format(tmp_path: Path) -> None:
    parts = [clip(tmp_path / "a.mp4", "320x240", 1.0), clip(tmp_path / "b.mp4", "640x360", 1.0, 30)]
    info = await merge_videos(parts, tmp_path / "out.mp4")
    assert info.reencoded
    assert (info.codec, info.width, info.height) == ("h264", 320, 240)
    assert info.duration_s == pytest.approx(2.0, abs=0.15)


async def test_a_broken_part_fails_and_leaves_no_output(tmp_path: Path) -> None:
    good = clip(tmp_path / "a.mp4", "320x240", 1.0)
    broken = tmp_path / "b.mp4"
    broken.write_bytes(b"not a video")
    with pytest.raises(PermanentStepError, match=r"b\.mp4: ffprobe cannot read it"):
        await merge_videos([good, broken], tmp_path / "out.mp4")
    assert not (tmp_path / "out.mp4").exists()
