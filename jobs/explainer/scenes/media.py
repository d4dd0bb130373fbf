"""Probe and merge videos with ffmpeg (ffmpeg-python builds the command lines; the processes run
through :func:`runner.isolation.proc.run_process`: own process group, timeout, killed on
cancellation).

``ffmpeg -f concat -c copy`` exits 0 and writes a broken file when its parts differ in codec, size,
frame rate or pixel format, so every part is probed first: parts that agree are copied, parts that do
not are re-encoded to one format. The result is probed too; a merge never leaves a broken file behind.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import ffmpeg

from runner.contract.errors import PermanentStepError, StepError
from runner.isolation.proc import run_process, tail

PROBE_TIMEOUT_S = 60.0
MERGE_TIMEOUT_S = 600.0


@dataclass(frozen=True)
class VideoInfo:
    codec: str
    width: int
    height: int
    fps: str
    pix_fmt: str
    duration_s: float
    reencoded: bool = False

    @property
    def format_key(self) -> tuple[str, int, int, str, str]:
        return (self.codec, self.width, self.height, self.fps, self.pix_fmt)


async def probe(path: Path) -> VideoInfo:
    """Describe a video file's first video stream.

    Raises:
        PermanentStepError: the file is missing, unreadable or has no video stream.
    """
    if not path.is_file():
        raise PermanentStepError(f"{path.name}: no such video")
    code, out, err = await run_process(
        ["ffprobe", "-v", "error", "-show_format", "-show_streams", "-of", "json", str(path)],
        label=f"ffprobe {path.name}", cwd=path.parent, timeout=PROBE_TIMEOUT_S)
    if code != 0:
        raise PermanentStepError(f"{path.name}: ffprobe cannot read it: {tail(err, 5)}")
    data = json.loads(out)
    video = next((s for s in data.get("streams", []) if s.get("codec_type") == "video"), None)
    if video is None:
        raise PermanentStepError(f"{path.name}: has no video stream")
    duration = float(data.get("format", {}).get("duration") or video.get("duration") or 0)
    return VideoInfo(codec=video.get("codec_name", "?"), width=int(video.get("width", 0)),
                     height=int(video.get("height", 0)), fps=video.get("r_frame_rate", "?"),
                     pix_fmt=video.get("pix_fmt", "?"), duration_s=duration)


async def merge_videos(parts: list[Path], output: Path, on_tick: Callable[[], None] | None = None,
                       *, reencode: bool = False, crf: int = 23) -> VideoInfo:
    """Concatenate ``parts`` into ``output`` (atomically) and describe the result; ``on_tick`` runs
    every few seconds while ffmpeg runs (a heartbeat). Parts that agree are copied unless
    ``reencode``; a re-encode makes H.264 at quality ``crf``.

    Raises:
        PermanentStepError: a part is unreadable, or the merged file is not a valid video.
        StepError: ffmpeg itself failed (worth a retry).
    """
    if not parts:
        raise PermanentStepError("nothing to merge: no scene videos")
    infos = [await probe(p) for p in parts]
    output.parent.mkdir(parents=True, exist_ok=True)
    tmp = output.with_name(f".{output.stem}.partial{output.suffix}")
    same = all(i.format_key == infos[0].format_key for i in infos) and not reencode
    listing = output.with_name(f".{output.stem}.concat.txt")
    if same:
        listing.write_text("".join(f"file '{_quote(p)}'\n" for p in parts), encoding="utf-8")
        stream = ffmpeg.input(str(listing), f="concat", safe=0).output(str(tmp), c="copy",
                                                                      movflags="+faststart")
    else:
        first = infos[0]
        inputs = [ffmpeg.input(str(p)).video.filter("scale", first.width, first.height)
                  .filter("setsar", "1").filter("fps", fps=first.fps).filter("format", "yuv420p")
                  for p in parts]
        stream = ffmpeg.concat(*inputs, v=1, a=0).output(
            str(tmp), vcodec="libx264", pix_fmt="yuv420p", crf=crf, movflags="+faststart")
    try:
        code, _, err = await run_process(["ffmpeg", "-v", "error", *stream.overwrite_output().compile()[1:]],
                                         label="ffmpeg merge", cwd=output.parent, timeout=MERGE_TIMEOUT_S,
                                         on_tick=on_tick)
    finally:
        listing.unlink(missing_ok=True)
    if code != 0:
        tmp.unlink(missing_ok=True)
        raise StepError(f"ffmpeg failed (exit {code}): {tail(err, 8)}")
    result = await probe(tmp)
    expected = sum(i.duration_s for i in infos)
    if result.duration_s <= 0 or result.duration_s < 0.9 * expected:
        tmp.unlink(missing_ok=True)
        raise PermanentStepError(f"merged video is broken: {result.duration_s:.2f} s long, "
                                 f"expected about {expected:.2f} s")
    os.replace(tmp, output)
    return VideoInfo(**{**result.__dict__, "reencoded": not same})


def _quote(path: Path) -> str:
    return str(path.resolve()).replace("'", "'\\''")
