"""The speech activity (the narration's voice): offline speech is espeak-ng's, written whole to the
requested WAV file with its length; a provider that cannot speak is a non-retryable error naming it;
spoken sentences are kept in the step cache. (Through litellm and the provider simulator:
tests/test_llm_gateway.py.)"""

from __future__ import annotations

import asyncio
import wave
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import Client
from temporalio.exceptions import ApplicationError

from jobs.explainer.workflow import ExplainerWorkflow
from runner.activity.engine import EngineActivities
from runner.activity.llm.activity import LLMActivities, wav_duration
from runner.config.catalog import Catalog, ModelSpec
from runner.config.jobkinds import all_responders
from runner.contract.llm import SpeechCall, SpeechRequest
from runner.contract.names import BATCH_WORKFLOW
from runner.contract.types import BatchResult, TopicSpec
from runner.workflow.batch import BatchWorkflow
from tests.test_batch_workflow import Fakes
from tests.workers import batch_input, results, workers_with

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


def test_a_sentence_that_starts_like_an_option_is_spoken(tmp_path: Path) -> None:
    """espeak-ng is told where its options end: "-2 is the root." is text, not an option."""
    out = tmp_path / "minus.wav"
    answer = asyncio.run(LLMActivities(CATALOG, []).speak(SpeechCall(
        model="offline", request=SpeechRequest(text="-2 is the root.", output=str(out)))))
    assert answer.duration_s > 0.5 and out.stat().st_size > 10_000


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


async def test_spoken_sentences_are_kept_in_the_step_cache_and_reused(
        client: Client, task_queue: str, tmp_path: Path) -> None:
    """A resubmit takes every sentence's audio from the step cache (the same bytes, no speech
    call); another voice is spoken afresh. (Render and merge are fakes here.)"""
    fakes = Fakes()
    llm = LLMActivities(Catalog(models={"offline": ModelSpec(provider="offline")}), all_responders())
    cache = tmp_path / "cache"

    async def batch(n: int, voice: str) -> list[dict[str, Any]]:
        chain = ["offline"]
        topic = TopicSpec(id="d", topic="Derivative of x^3", models={"decompose": chain, "script": chain},
                          params={"quality": "low", "narration": True, "voice": voice})
        inp = batch_input(batch_id=f"sp{n}-{task_queue}", name="sp", job="explainer",
                          child_workflow="explainer.topic", task_queue=task_queue,
                          output_dir=tmp_path / f"out{n}", concurrency=1, manifest="m", topics=[topic],
                          cache=str(cache))
        result = await client.execute_workflow(BATCH_WORKFLOW, inp, id=inp.batch_id, task_queue=task_queue,
                                               result_type=BatchResult)
        assert result.succeeded == 1
        [line] = results(tmp_path / f"out{n}")
        return [s for s in line["steps"] if s["name"].startswith("narrate (")]

    async with workers_with(client, task_queue, workflows=[BatchWorkflow, ExplainerWorkflow],
                            activities=[fakes.validate, fakes.render, fakes.merge,
                                        *EngineActivities().activities()],
                            llm=llm.complete, speech=llm.speak, models=llm.catalog):
        first = await batch(1, "en-us")
        again = await batch(2, "en-us")
        other = await batch(3, "en-gb")
    assert len(first) >= 4 and [s["name"] for s in again] == [s["name"] for s in first]
    assert {m["outcome"] for s in first for m in s["models_tried"]} == {"answered"}
    assert all(s["models_tried"] == [{"model": "offline", "attempts": 0, "outcome": "cached", "error": None}]
               and s["detail"]["cached_from"]["batch"] == f"sp1-{task_queue}" for s in again)
    assert {m["outcome"] for s in other for m in s["models_tried"]} == {"answered"}
    audio = {n: sorted((tmp_path / f"out{n}" / "topics" / "d" / "audio").iterdir()) for n in (1, 2)}
    assert [p.name for p in audio[1]] == [p.name for p in audio[2]] and len(audio[1]) == len(first)
    assert all(a.read_bytes() == b.read_bytes() for a, b in zip(audio[1], audio[2], strict=True))


def test_the_simulators_speech_endpoint_answers_like_openais(monkeypatch: pytest.MonkeyPatch) -> None:
    """Audio in the asked format with OpenAI's content type, 400 for what OpenAI refuses, and a 500
    with a body (logged) when it cannot speak, never a dropped connection."""
    import json
    import urllib.error
    import urllib.request

    from runner.dev import simulate

    sim = simulate.Simulator(simulate.SimConfig(), []).start()

    def post(body: dict[str, Any]) -> tuple[int, str, bytes]:
        request = urllib.request.Request(f"{sim.base_url}/v1/audio/speech", data=json.dumps(body).encode(),
                                         headers={"authorization": "Bearer sk-x"})
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                return answer.status, answer.headers["content-type"], answer.read()
        except urllib.error.HTTPError as err:
            return err.code, err.headers["content-type"], err.read()

    try:
        status, kind, audio = post({"model": "tts", "input": "Two x.", "voice": "nova",
                                    "response_format": "mp3"})
        assert (status, kind) == (200, "audio/mpeg") and len(audio) > 1000
        status, _, wav = post({"model": "tts", "input": "Two x.", "voice": "alloy", "response_format": "wav"})
        assert status == 200 and wav[:4] == b"RIFF"
        status, _, body = post({"model": "tts", "input": "Two x.", "voice": "gandalf"})
        assert status == 400 and "voice 'gandalf' is not one of" in json.loads(body)["error"]["message"]
        monkeypatch.setattr(simulate, "_espeak", lambda *a: (_ for _ in ()).throw(OSError("no espeak-ng")))
        status, _, body = post({"model": "tts", "input": "Two x.", "voice": "alloy"})
        assert status == 500 and "no espeak-ng" in json.loads(body)["error"]["message"]
        assert [r["status"] for r in sim.requests] == [200, 200, 400, 500]
    finally:
        sim.stop()
