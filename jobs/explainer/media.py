"""Probe and merge videos with ffmpeg (through ffmpeg-python).

``ffmpeg -f concat -c copy`` exits 0 and writes a broken file when its parts differ in codec, size,
frame rate or pixel format, so every part is probed first: parts that agree are copied, parts that do
not are re-encoded to one format. The result is probed too; a merge never leaves a broken file behind.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import ffmpeg

from runner.errors import PermanentStepError, StepError


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


def probe(path: Path) -> VideoInfo:
    """Describe a video file's first video stream.

    Raises:
        PermanentStepError: the file is missing, unreadable or has no video stream.
    """
    if not path.is_file():
        raise PermanentStepError(f"{path.name}: no such video")
    try:
        data = ffmpeg.probe(str(path))
    except ffmpeg.Error as exc:
        raise PermanentStepError(f"{path.name}: ffprobe cannot read it: "
                                 f"{exc.stderr.decode(errors='replace')[-300:]}") from exc
    video = next((s for s in data.get("streams", []) if s.get("codec_type") == "video"), None)
    if video is None:
        raise PermanentStepError(f"{path.name}: has no video stream")
    duration = float(data.get("format", {}).get("duration") or video.get("duration") or 0)
    return VideoInfo(codec=video.get("codec_name", "?"), width=int(video.get("width", 0)),
                     height=int(video.get("height", 0)), fps=video.get("r_frame_rate", "?"),
                     pix_fmt=video.get("pix_fmt", "?"), duration_s=duration)


def merge_videos(parts: list[Path], output: Path) -> VideoInfo:
    """Concatenate ``parts`` into ``output`` (atomically) and describe the result.

    Raises:
        PermanentStepError: a part is unreadable, or the merged file is not a valid video.
        StepError: ffmpeg itself failed (worth a retry).
    """
    if not parts:
        raise PermanentStepError("nothing to merge: no scene videos")
    infos = [probe(p) for p in parts]
    output.parent.mkdir(parents=True, exist_ok=True)
    tmp = output.with_name(f".{output.stem}.partial{output.suffix}")
    same = all(i.format_key == infos[0].format_key for i in infos)
    try:
        if same:
            listing = output.with_name(f".{output.stem}.concat.txt")
            listing.write_text("".join(f"file '{_quote(p)}'\n" for p in parts), encoding="utf-8")
            stream = ffmpeg.input(str(listing), f="concat", safe=0).output(str(tmp), c="copy",
                                                                          movflags="+faststart")
        else:
            first = infos[0]
            inputs = [ffmpeg.input(str(p)).video.filter("scale", first.width, first.height)
                      .filter("setsar", "1").filter("fps", fps=first.fps).filter("format", "yuv420p")
                      for p in parts]
            stream = ffmpeg.concat(*inputs, v=1, a=0).output(
                str(tmp), vcodec="libx264", pix_fmt="yuv420p", movflags="+faststart")
        stream.overwrite_output().run(quiet=True)
    except ffmpeg.Error as exc:
        tmp.unlink(missing_ok=True)
        raise StepError(f"ffmpeg failed: {exc.stderr.decode(errors='replace')[-400:]}") from exc
    finally:
        if same:
            output.with_name(f".{output.stem}.concat.txt").unlink(missing_ok=True)
    result = probe(tmp)
    expected = sum(i.duration_s for i in infos)
    if result.duration_s <= 0 or result.duration_s < 0.9 * expected:
        tmp.unlink(missing_ok=True)
        raise PermanentStepError(f"merged video is broken: {result.duration_s:.2f} s long, "
                                 f"expected about {expected:.2f} s")
    os.replace(tmp, output)
    return VideoInfo(**{**result.__dict__, "reencoded": not same})


def _quote(path: Path) -> str:
    return str(path.resolve()).replace("'", "'\\''")
