"""Probe and merge videos with ffmpeg (ffmpeg-python builds the command lines; the processes run
through :func:`runner.isolation.proc.run_process`: own process group, timeout, killed on
cancellation).

``ffmpeg -f concat -c copy`` exits 0 and writes a broken file when its parts differ in codec, size,
frame rate or pixel format, so every part is probed first: parts that agree are copied, parts that do
not are re-encoded to one format. The result is probed too; a merge never leaves a broken file behind.
"""

from __future__ import annotations

import json
import math
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
    result = await _publish(code, err, tmp, output, sum(i.duration_s for i in infos))
    return VideoInfo(**{**result.__dict__, "reencoded": not same})


async def _publish(code: int, err: bytes, tmp: Path, output: Path, expected: float) -> VideoInfo:
    """Check ffmpeg's result in ``tmp`` (its exit ``code``, a length near ``expected`` seconds) and
    move it to ``output``; describe it.

    Raises:
        StepError: ffmpeg failed (worth a retry).
        PermanentStepError: ffmpeg wrote a broken video.
    """
    if code != 0:
        tmp.unlink(missing_ok=True)
        raise StepError(f"ffmpeg failed (exit {code}): {tail(err, 8)}")
    result = await probe(tmp)
    if result.duration_s <= 0 or result.duration_s < 0.9 * expected:
        tmp.unlink(missing_ok=True)
        raise PermanentStepError(f"merged video is broken: {result.duration_s:.2f} s long, "
                                 f"expected about {expected:.2f} s")
    os.replace(tmp, output)
    return result


def _quote(path: Path) -> str:
    return str(path.resolve()).replace("'", "'\\''")


@dataclass(frozen=True)
class Cue:
    """A subtitle: a sentence and when it is spoken (seconds from the start of its video)."""

    start: float
    end: float
    text: str


@dataclass(frozen=True)
class Voiceover:
    """A scene's narration: its audio (one file, or one per sentence, spoken in turn), and its
    sentences timed within the scene."""

    audio: tuple[Path, ...]
    cues: tuple[Cue, ...]


async def media_duration(path: Path) -> float:
    """The duration of an audio or video file, in seconds.

    Raises:
        PermanentStepError: the file is missing or unreadable.
    """
    if not path.is_file():
        raise PermanentStepError(f"{path.name}: no such file")
    code, out, err = await run_process(
        ["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", str(path)],
        label=f"ffprobe {path.name}", cwd=path.parent, timeout=PROBE_TIMEOUT_S)
    try:
        if code == 0:
            return float(out.strip())
    except ValueError:
        pass
    raise PermanentStepError(f"{path.name}: ffprobe cannot read it: {tail(err, 5)}")


AUDIO_RATE = 44100


async def merge_narrated(parts: list[Path], voices: list[Voiceover | None], output: Path,
                         on_tick: Callable[[], None] | None = None, *, crf: int = 23,
                         burn: bool = False) -> tuple[VideoInfo, list[Cue]]:
    """Concatenate ``parts`` with each scene's narration into ``output`` (H.264 and AAC, atomically);
    returns the result's description and every sentence's cue in the merged video.

    Each scene lasts at least as long as its narration: its last frame is held until the voice
    ends (speech is never cut), and its audio starts with its first frame, so voice and picture
    stay in sync scene by scene (within a frame). A scene without narration is silent. With ``burn``
    the cues are drawn into the picture.

    Raises:
        PermanentStepError: a part or an audio file is unreadable, or the result is broken.
        StepError: ffmpeg itself failed (worth a retry).
    """
    if not parts or len(parts) != len(voices):
        raise PermanentStepError("nothing to merge, or not one narration (or none) per scene")
    infos = [await probe(p) for p in parts]
    first = infos[0]
    fps = _fps(first.fps)
    streams: list[object] = []
    cues: list[Cue] = []
    start = 0.0
    for part, info, voice in zip(parts, infos, voices, strict=True):
        video = (ffmpeg.input(str(part)).video.filter("scale", first.width, first.height)
                 .filter("setsar", "1").filter("fps", fps=first.fps).filter("format", "yuv420p"))
        length = info.duration_s
        if voice is not None and voice.audio:
            spoken = sum([await media_duration(a) for a in voice.audio])
            if spoken > length:  # hold the last frame: whole frames, so picture and sound agree
                extra = math.ceil((spoken - length) * fps) / fps
                video = video.filter("tpad", stop_mode="clone", stop_duration=f"{extra:.6f}")
                length += extra
            said = [ffmpeg.input(str(a)).audio.filter("aresample", AUDIO_RATE) for a in voice.audio]
            joined = said[0] if len(said) == 1 else ffmpeg.concat(*said, v=0, a=1)
            audio = joined.filter("apad").filter("atrim", duration=f"{length:.6f}")
            cues += [Cue(start + c.start, start + c.end, c.text) for c in voice.cues]
        else:
            audio = ffmpeg.input(f"anullsrc=r={AUDIO_RATE}:cl=mono", f="lavfi").audio.filter(
                "atrim", duration=f"{length:.6f}")
        streams += [video, audio]
        start += length
    output.parent.mkdir(parents=True, exist_ok=True)
    tmp = output.with_name(f".{output.stem}.partial{output.suffix}")
    burned = output.with_name(f".{output.stem}.burn.srt")
    stream = ffmpeg.concat(*streams, v=1, a=1).node
    picture = stream[0]
    if burn and cues:
        burned.write_text(subtitles(cues, "srt"), encoding="utf-8")
        picture = picture.filter("subtitles", burned.name)  # relative: ffmpeg runs in its folder
    out = ffmpeg.output(picture, stream[1], str(tmp), vcodec="libx264", pix_fmt="yuv420p", crf=crf,
                        acodec="aac", ac=1, ar=AUDIO_RATE, movflags="+faststart")
    try:
        code, _, err = await run_process(["ffmpeg", "-v", "error", *out.overwrite_output().compile()[1:]],
                                         label="ffmpeg merge", cwd=output.parent,
                                         timeout=MERGE_TIMEOUT_S, on_tick=on_tick)
    finally:
        burned.unlink(missing_ok=True)
    result = await _publish(code, err, tmp, output, start)
    return VideoInfo(**{**result.__dict__, "reencoded": True}), cues


def _fps(rate: str) -> float:
    """``30/1`` -> 30.0 (15 when it cannot be read)."""
    num, _, den = rate.partition("/")
    try:
        return float(num) / float(den or 1)
    except (ValueError, ZeroDivisionError):
        return 15.0


def subtitles(cues: list[Cue], kind: str) -> str:
    """``cues`` as an ``srt`` or ``vtt`` file's text."""
    def stamp(t: float, sep: str) -> str:
        ms = round(t * 1000)
        return f"{ms // 3600000:02d}:{ms // 60000 % 60:02d}:{ms // 1000 % 60:02d}{sep}{ms % 1000:03d}"

    if kind == "vtt":
        blocks = [f"{stamp(c.start, '.')} --> {stamp(c.end, '.')}\n{c.text}" for c in cues]
        return "WEBVTT\n\n" + "\n\n".join(blocks) + "\n"
    blocks = [f"{i}\n{stamp(c.start, ',')} --> {stamp(c.end, ',')}\n{c.text}" for i, c in enumerate(cues, 1)]
    return "\n\n".join(blocks) + "\n"


async def thumbnail(video: Path, output: Path, at: float) -> None:
    """A JPEG of ``video``'s frame at ``at`` seconds, written atomically.

    Raises:
        StepError: ffmpeg failed.
    """
    tmp = output.with_name(f".{output.stem}.partial.jpg")
    code, _, err = await run_process(
        ["ffmpeg", "-v", "error", "-y", "-ss", f"{max(at, 0.0):.3f}", "-i", str(video), "-frames:v", "1",
         "-q:v", "3", str(tmp)], label="ffmpeg thumbnail", cwd=video.parent, timeout=PROBE_TIMEOUT_S)
    if code != 0 or not tmp.is_file():
        tmp.unlink(missing_ok=True)
        raise StepError(f"ffmpeg could not take a thumbnail (exit {code}): {tail(err, 5)}")
    os.replace(tmp, output)
