"""Narrated merges (real ffmpeg and espeak-ng): each scene lasts as long as its voice, voice and
picture start together scene by scene, the result has H.264 video and AAC audio of one length,
subtitles are timed from the audio, and a thumbnail is taken."""

from __future__ import annotations

import asyncio
import json
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
