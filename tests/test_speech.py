"""The speech activity (the narration's voice), called directly: offline speech is espeak-ng's,
written whole to the requested WAV file with its length; a provider that cannot speak is a
non-retryable error naming it."""

from __future__ import annotations

import asyncio
import wave
from pathlib import Path

import pytest
from temporalio.exceptions import ApplicationError

from runner.activity.llm.activity import LLMActivities, wav_duration
from runner.config.catalog import Catalog, ModelSpec
from runner.contract.llm import SpeechCall, SpeechRequest

CATALOG = Catalog(models={"offline": ModelSpec(provider="offline"),
                          "claude": ModelSpec(provider="anthropic", model="claude-x")})


def test_offline_speech_is_written_whole_with_its_length(tmp_path: Path) -> None:
    out = tmp_path / "audio" / "s1-1.wav"
    answer = asyncio.run(LLMActivities(CATALOG, []).speak(SpeechCall(
        model="offline", request=SpeechRequest(text="The derivative of x squared is two x.",
                                               output=str(out)))))
    assert answer.audio == str(out) and answer.provider == "offline" and answer.model == "offline"
    with wave.open(str(out)) as w:
        seconds = w.getnframes() / w.getframerate()
    assert 1.0 < answer.duration_s < 5.0 and answer.duration_s == pytest.approx(seconds, abs=0.05)
    assert answer.characters == 37 and answer.cost_usd == 0.0
    assert [p.name for p in out.parent.iterdir()] == ["s1-1.wav"]  # no partial file left


def test_a_model_that_cannot_speak_is_a_permanent_error(tmp_path: Path) -> None:
    with pytest.raises(ApplicationError) as info:
        asyncio.run(LLMActivities(CATALOG, []).speak(SpeechCall(
            model="claude", request=SpeechRequest(text="Hello.", output=str(tmp_path / "a.wav")))))
    assert info.value.non_retryable and "provider anthropic has no speech API" in info.value.message
    assert not (tmp_path / "a.wav").exists()


def test_a_streamed_wav_is_measured_by_its_bytes() -> None:
    """A WAV streamed by a provider may announce more frames than it holds."""
    header = bytearray(b"RIFF\xff\xff\xff\xffWAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00"
                       b"\x22\x56\x00\x00\x44\xac\x00\x00\x02\x00\x10\x00data\xff\xff\xff\xff")
    assert wav_duration(bytes(header) + b"\x00\x00" * 22050) == pytest.approx(1.0)
    assert wav_duration(b"ID3 not a wav") is None
