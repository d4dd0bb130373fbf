"""Narrated merges (real ffmpeg and espeak-ng): each scene lasts as long as its voice, voice and
picture start together scene by scene, the result has H.264 video and AAC audio of one length,
subtitles are timed from the audio, and a thumbnail is taken."""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
from pathlib import Path

import pytest

from jobs.explainer.scenes.media import Cue, Voiceover, media_duration, merge_narrated, subtitles, thumbnail


def clip(path: Path, seconds: float) -> Path:
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i",
                    f"testsrc=size=854x480:rate=15:duration={seconds}", "-c:v", "libx264", "-pix_fmt",
                    "yuv420p", str(path)], check=True)
    return path


def speak(path: Path, text: str) -> Path:
    subprocess.run(["espeak-ng", "-w", str(path), text], check=True)
    return path


def streams(path: Path) -> dict[str, float]:
    out = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "stream=codec_name,duration", "-of",
                          "json", str(path)], capture_output=True, text=True, check=True).stdout
    return {s["codec_name"]: float(s["duration"]) for s in json.loads(out)["streams"]}


def loudness(path: Path, start: float, end: float) -> float:
    """Mean volume (dB) of ``path``'s audio between ``start`` and ``end``."""
    out = subprocess.run(["ffmpeg", "-v", "info", "-ss", str(start), "-to", str(end), "-i", str(path),
                          "-af", "volumedetect", "-f", "null", "-"], capture_output=True, text=True).stderr
    return float(out.split("mean_volume:")[1].split("dB")[0])


@pytest.mark.parametrize("long_voice", [True, False], ids=["voice-longer-than-scene", "scene-longer"])
def test_each_scene_lasts_as_long_as_its_voice_and_stays_in_sync(tmp_path: Path, long_voice: bool) -> None:
    s1, s2 = clip(tmp_path / "s1.mp4", 1.0 if long_voice else 5.0), clip(tmp_path / "s2.mp4", 2.0)
    voice = speak(tmp_path / "s1.wav", "The derivative of x squared is two x. It is the slope.")
    spoken = asyncio.run(media_duration(voice))
    cues = (Cue(0.0, 1.5, "The derivative of x squared is two x."), Cue(1.5, spoken, "It is the slope."))
    info, placed = asyncio.run(merge_narrated([s1, s2], [Voiceover((voice,), cues), None],
                                              tmp_path / "t1.mp4"))
    first = max(spoken, 1.0 if long_voice else 5.0)  # scene 1 holds its last frame for the voice
    found = streams(tmp_path / "t1.mp4")
    assert set(found) == {"h264", "aac"}
    assert abs(found["h264"] - (first + 2.0)) < 0.1 and abs(found["aac"] - found["h264"]) < 0.2
    assert info.duration_s == pytest.approx(first + 2.0, abs=0.1)
    assert placed == list(cues)  # scene 1 starts at 0
    # the voice is in scene 1 and nowhere else: scene 2 is silent
    assert loudness(tmp_path / "t1.mp4", 0.2, spoken - 0.2) > -40
    assert loudness(tmp_path / "t1.mp4", first + 0.1, first + 1.9) < -80
    srt = subtitles(placed, "srt")
    assert srt.startswith("1\n00:00:00,000 --> 00:00:01,500\nThe derivative of x squared is two x.\n\n2\n")
    assert subtitles(placed, "vtt").startswith("WEBVTT\n\n00:00:00.000 --> 00:00:01.500\n")
    asyncio.run(thumbnail(tmp_path / "t1.mp4", tmp_path / "t1.jpg", info.duration_s / 2))
    assert (tmp_path / "t1.jpg").read_bytes()[:3] == b"\xff\xd8\xff"  # a JPEG


def test_cues_of_later_scenes_are_shifted_by_the_scenes_before(tmp_path: Path) -> None:
    s1, s2 = clip(tmp_path / "s1.mp4", 1.0), clip(tmp_path / "s2.mp4", 1.0)
    v1, v2 = speak(tmp_path / "v1.wav", "One two three four five."), speak(tmp_path / "v2.wav", "Six.")
    d1 = asyncio.run(media_duration(v1))
    _, placed = asyncio.run(merge_narrated(
        [s1, s2], [Voiceover((v1,), (Cue(0, d1, "One two three four five."),)),
                   Voiceover((v2,), (Cue(0, 0.5, "Six."),))], tmp_path / "t.mp4"))
    held = -(-d1 * 15 // 1) / 15  # scene 1 lasts its voice, in whole frames
    assert placed[1].start == pytest.approx(held, abs=0.01) and placed[1].text == "Six."


def colour_clip(path: Path, colour: str, seconds: float) -> Path:
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i",
                    f"color=c={colour}:size=320x240:rate=15:duration={seconds}", "-c:v", "libx264",
                    "-pix_fmt", "yuv420p", str(path)], check=True)
    return path


def colour_starts(video: Path, colours: list[tuple[int, int, int]]) -> list[float]:
    """When each of ``colours`` (RGB) first fills the picture, in seconds (from the frames' own
    timestamps: one 1x1 RGB pixel per frame)."""
    out = subprocess.run(["ffmpeg", "-v", "error", "-i", str(video), "-vf", "scale=1:1", "-f", "rawvideo",
                          "-pix_fmt", "rgb24", "-"], capture_output=True, check=True).stdout
    rate = 15.0
    pixels = [tuple(out[i:i + 3]) for i in range(0, len(out), 3)]
    return [next(i for i, p in enumerate(pixels) if max(abs(a - b) for a, b in zip(p, c, strict=True)) < 40)
            / rate for c in colours]


def onsets(audio: Path, after: float = 0.0) -> list[float]:
    """When sound starts after each silence of at least 0.15 s (and at the start, if it does not
    start silent), in seconds."""
    err = subprocess.run(["ffmpeg", "-v", "info", "-i", str(audio), "-af",
                          "silencedetect=noise=-45dB:d=0.15", "-f", "null", "-"],
                         capture_output=True, text=True).stderr
    ends = [float(x) for x in re.findall(r"silence_end: ([0-9.]+)", err)]
    starts = [float(x) for x in re.findall(r"silence_start: ([0-9.-]+)", err)]
    found = ([] if starts and starts[0] <= 0.01 else [0.0]) + ends
    return [t for t in found if t >= after]


def test_every_scene_starts_with_its_voice_within_100_ms(tmp_path: Path) -> None:
    """Scenes whose lengths are not whole frames, some shorter than their voice and some longer:
    in the merged video each scene's voice begins when its picture does (to 100 ms), scene after
    scene, with no drift."""
    colours = [("red", (255, 0, 0), 1.03), ("blue", (0, 0, 255), 3.0), ("green", (0, 128, 0), 0.71),
               ("white", (255, 255, 255), 2.2)]
    texts = ["Red is first and this sentence is long.", "Blue.", "Green comes next, and it speaks.",
             "White."]
    parts, voices = [], []
    for (name, _, seconds), text in zip(colours, texts, strict=True):
        parts.append(colour_clip(tmp_path / f"{name}.mp4", name, seconds))
        wav = speak(tmp_path / f"{name}.wav", text)
        voices.append(Voiceover((wav,), (Cue(0.0, asyncio.run(media_duration(wav)), text),)))
    merged = tmp_path / "merged.mp4"
    _, placed = asyncio.run(merge_narrated(parts, voices, merged))
    pictures = colour_starts(merged, [rgb for _, rgb, _ in colours])
    assert pictures == sorted(pictures) and pictures[0] == 0.0
    lead = [onsets(v.audio[0])[0] for v in voices]  # espeak-ng's own silence before the first word
    for scene, (picture, cue) in enumerate(zip(pictures, placed, strict=True)):
        assert abs(cue.start - picture) <= 0.1, (scene, cue.start, picture)  # the subtitles agree
        [voice] = onsets(merged, after=picture - 0.1)[:1]
        assert abs(voice - lead[scene] - picture) <= 0.1, (scene, voice, lead[scene], picture)
