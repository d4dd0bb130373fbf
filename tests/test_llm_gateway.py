"""The LLM gateway through the real anthropic and litellm clients against the provider simulator, on
the real Temporal server (render, validate and merge are fakes here: they are tested elsewhere)."""

from __future__ import annotations

import json
import logging
import secrets
import wave
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import Client

from jobs.explainer.workflow import ExplainerWorkflow
from runner.activity.engine import EngineActivities
from runner.activity.llm.activity import LLMActivities
from runner.activity.llm.errors import retry_after
from runner.config.catalog import Catalog, ModelSpec, Price
from runner.config.jobkinds import all_responders
from runner.contract.names import BATCH_WORKFLOW, child_id
from runner.contract.types import BatchResult, TopicSpec
from runner.dev.simulate import SimConfig, Simulator
from runner.workflow.batch import BatchWorkflow
from tests.test_batch_workflow import Fakes
from tests.workers import batch_input, results, workers_with

KEY_ENV = "RUNNER_TEST_SIM_KEY"


def test_retry_after_reads_every_header_form() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert retry_after({"retry-after-ms": "1500", "retry-after": "9"}, now) == 1.5
    assert retry_after({"retry-after": "3"}, now) == 3.0
    assert retry_after({"retry-after": "Thu, 01 Jan 2026 00:00:07 GMT"}, now) == 7.0
    reset = (now + timedelta(seconds=12)).isoformat()
    assert retry_after({"anthropic-ratelimit-tokens-remaining": "0",
                        "anthropic-ratelimit-tokens-reset": reset,
                        "anthropic-ratelimit-requests-remaining": "5",
                        "anthropic-ratelimit-requests-reset": now.isoformat()}, now) == 12.0
    assert retry_after({"x-ratelimit-remaining-requests": "0",
                        "x-ratelimit-reset-requests": "6m0.5s"}, now) == 360.5
    assert retry_after({}, now) is None


@pytest.fixture
def key(monkeypatch: pytest.MonkeyPatch) -> str:
    value = f"sk-sim-{secrets.token_hex(16)}"
    monkeypatch.setenv(KEY_ENV, value)
    return value


def catalog_for(sim: Simulator) -> Catalog:
    def model(provider: str, name: str, price: Price | None = None) -> ModelSpec:
        base = sim.base_url if provider == "anthropic" else f"{sim.base_url}/v1"
        return ModelSpec(provider=provider, model=name, api_key_env=KEY_ENV,  # type: ignore[arg-type]
                         base_url=base, price=price)
    return Catalog(models={"claude": model("anthropic", "claude-sim",
                                           Price(input_per_mtok=15, output_per_mtok=75)),
                           "dead": model("anthropic", "claude-dead"),
                           "free": model("litellm", "openai/free-sim"),
                           "tts": model("litellm", "openai/tts-sim",  # speech: per million characters
                                        Price(input_per_mtok=15, output_per_mtok=0)),
                           "offline": ModelSpec(provider="offline")})


@pytest.fixture
def sim(request: pytest.FixtureRequest) -> Iterator[Simulator]:
    simulator = Simulator(request.param, all_responders()).start()
    yield simulator
    simulator.stop()


async def run(client: Client, task_queue: str, tmp_path: Path, sim: Simulator, chains: list[list[str]],
              voices: list[str] | None = None) -> tuple[BatchResult, dict[str, Any], list[dict[str, Any]]]:
    """Run a batch, one topic per chain; returns its result, report.json and results.jsonl. With
    ``voices`` (a narrate chain), the topics speak (their decompose and script are the offline
    model's then, so that every request the simulator sees is a speech request)."""
    fakes = Fakes()
    llm = LLMActivities(catalog_for(sim), all_responders())
    batch_id = f"gw-{task_queue}"
    topics = [TopicSpec(id=f"t{i}", topic=f"Derivative of x^{i + 2}",
                        models={"decompose": c, "script": c} if voices is None else
                        {"decompose": ["offline"], "script": ["offline"], "narrate": voices},
                        params={"quality": "low", "narration": voices is not None})
              for i, c in enumerate(chains)]
    async with workers_with(client, task_queue, workflows=[BatchWorkflow, ExplainerWorkflow],
                            activities=[fakes.validate, fakes.render, fakes.merge,
                                        *EngineActivities().activities()],
                            llm=llm.complete, speech=llm.speak, models=llm.catalog):
        result = await client.execute_workflow(
            BATCH_WORKFLOW,
            batch_input(batch_id=batch_id, name="gw", job="explainer", child_workflow="explainer.topic",
                        task_queue=task_queue, output_dir=tmp_path, concurrency=4,
                        manifest="m.yaml", topics=topics),
            id=batch_id, task_queue=task_queue, result_type=BatchResult)
    return result, json.loads(Path(result.report_json).read_text()), results(tmp_path)


@pytest.mark.parametrize("sim", [SimConfig(rate_limit_first=1, retry_after_s=3)], indirect=True)
async def test_a_429_is_retried_no_sooner_than_retry_after(
        client: Client, task_queue: str, tmp_path: Path, sim: Simulator, key: str) -> None:
    result, _, lines = await run(client, task_queue, tmp_path, sim, [["claude"]])
    assert result.succeeded == 1
    first, second = sim.requests[0], sim.requests[1]
    assert (first["status"], second["status"]) == (429, 200)
    # retried when the header said: not sooner, and not at the 10 s used when no header says
    assert 3.0 <= second["t"] - first["t"] < 4.5
    decompose = lines[0]["steps"][0]
    assert (decompose["model"], decompose["attempts"]) == ("claude", 2)


@pytest.mark.parametrize("sim", [SimConfig(model_status={"claude-dead": 401})], indirect=True)
async def test_a_401_falls_back_after_exactly_one_request_and_the_key_stays_secret(
        client: Client, task_queue: str, tmp_path: Path, sim: Simulator, key: str,
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    result, report, lines = await run(client, task_queue, tmp_path, sim, [["dead", "free"]] * 3)

    assert (result.succeeded, result.failed) == (3, 0)
    dead = [r for r in sim.requests if r["model"] == "claude-dead"]
    assert len(dead) == 6 and all(r["status"] == 401 for r in dead)  # one per LLM step per topic
    assert len(lines) == 3
    for topic in lines:
        for step in topic["steps"][:2]:
            assert step["model"] == "free"
            tried = step["models_tried"]
            assert [(m["model"], m["attempts"], m["outcome"]) for m in tried] == [
                ("dead", 1, "failed"), ("free", 1, "answered")]
            assert tried[0]["error"].startswith("dead: AuthenticationError (HTTP 401)")
    assert report["models"]["free"]["answered"] == 6
    # litellm's cost map does not know this model and the catalog gives no price: unpriced, not free
    assert (report["models"]["free"]["unpriced_calls"], report["totals"]["unpriced_calls"]) == (6, 6)

    # The key's value appears nowhere: not in any workflow history, report or log line,
    # although the simulator echoed it in its 401 answers.
    histories = [await client.get_workflow_handle(wid).fetch_history()
                 for wid in [f"gw-{task_queue}", *(child_id(f"gw-{task_queue}", f"t{i}") for i in range(3))]]
    assert all(key not in h.to_json() for h in histories)
    assert any("key provided: ***" in h.to_json() for h in histories)  # echoed, then scrubbed
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert key not in path.read_text(errors="replace"), path
    assert key not in caplog.text


@pytest.mark.parametrize("sim", [SimConfig(model_status={"claude-dead": 404})], indirect=True)
async def test_a_dead_primary_and_a_healthy_secondary_finish_the_batch(
        client: Client, task_queue: str, tmp_path: Path, sim: Simulator, key: str) -> None:
    result, report, lines = await run(client, task_queue, tmp_path, sim, [["dead", "claude"]] * 4)
    assert (result.succeeded, result.total) == (4, 4)
    assert {s["model"] for t in lines for s in t["steps"][:2]} == {"claude"}
    # cost from the catalog price, per step, per model and in the batch totals
    steps = [s for t in lines for s in t["steps"][:2]]
    expected = sum((s["detail"]["usage"]["input_tokens"] * 15
                    + s["detail"]["usage"]["output_tokens"] * 75) / 1e6 for s in steps)
    assert all(s["detail"]["cost_usd"] > 0 for s in steps)
    assert report["models"]["claude"]["cost_usd"] == pytest.approx(expected, abs=1e-5)
    assert report["totals"]["cost_usd"] == pytest.approx(expected, abs=1e-5)
    assert all(s["models_tried"][0]["error"].startswith("dead: NotFoundError (HTTP 404)")
               for t in lines for s in t["steps"][:2])


def speech_steps(topic: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for s in topic["steps"] if s["name"].startswith("narrate (")]


@pytest.mark.parametrize("sim", [SimConfig(rate_limit_first=1, retry_after_s=3)], indirect=True)
async def test_speech_through_litellm_retries_a_429_no_sooner_than_retry_after(
        client: Client, task_queue: str, tmp_path: Path, sim: Simulator, key: str) -> None:
    """The narration's voice through the real litellm client and the simulator's speech endpoint:
    the first request is rate-limited (retry-after 3 s) and asked again then, not sooner; every
    sentence is spoken by the provider, as WAV of the length the response says, and priced."""
    result, report, [topic] = await run(client, task_queue, tmp_path, sim, [[]], voices=["tts", "offline"])
    assert result.succeeded == 1
    first = sim.requests[0]
    assert all(r["api"] == "speech" for r in sim.requests)
    [again] = [r for r in sim.requests[1:] if r["digest"] == first["digest"]]  # the same sentence
    assert (first["status"], again["status"]) == (429, 200)
    assert 3.0 <= again["t"] - first["t"] < 4.5
    spoken = speech_steps(topic)
    assert len(spoken) >= 3 and len(sim.requests) == len(spoken) + 1
    assert sorted(s["attempts"] for s in spoken) == [1] * (len(spoken) - 1) + [2]
    assert {s["model"] for s in spoken} == {"tts"}
    lengths = []
    for audio in tmp_path.glob("topics/t0/audio/*.wav"):  # one file per sentence, whole
        with wave.open(str(audio)) as w:
            lengths.append(round(w.getnframes() / w.getframerate(), 3))
    assert sorted(lengths) == sorted(s["detail"]["audio_s"] for s in spoken)
    assert all(s["detail"]["cost_usd"] == pytest.approx(s["detail"]["characters"] * 15 / 1e6) for s in spoken)
    assert report["models"]["tts"]["answered"] == len(spoken)


@pytest.mark.parametrize("sim", [SimConfig(model_status={"tts-sim": 401})], indirect=True)
async def test_speech_falls_back_to_offline_when_the_provider_is_dead(
        client: Client, task_queue: str, tmp_path: Path, sim: Simulator, key: str) -> None:
    result, _, [topic] = await run(client, task_queue, tmp_path, sim, [[]], voices=["tts", "offline"])
    assert result.succeeded == 1
    spoken = speech_steps(topic)
    assert len(sim.requests) == len(spoken) >= 3 and all(r["status"] == 401 for r in sim.requests)
    for step in spoken:  # one request each to the dead provider, then espeak-ng on the worker
        assert [(m["model"], m["attempts"], m["outcome"]) for m in step["models_tried"]] == [
            ("tts", 1, "failed"), ("offline", 1, "answered")]
        assert step["models_tried"][0]["error"].startswith("tts: AuthenticationError (HTTP 401)")
        assert step["detail"]["audio_s"] > 0 and step["detail"]["cost_usd"] == 0.0
    assert len(list(tmp_path.glob("topics/t0/audio/*.wav"))) == len(spoken)
    assert key not in json.dumps(topic)


class FakeStatusError(Exception):
    """Stands in for an SDK error that carries a status (the live paths are tested above)."""

    def __init__(self, message: str, status: int, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status_code = status
        self.response = type("R", (), {"headers": headers or {}, "status_code": status})()


@pytest.mark.parametrize(("exc", "kind", "non_retryable"), [
    (FakeStatusError("You exceeded your current quota, please check your plan", 429),
     "QuotaExhausted", True),
    # ordinary throttling whose text mentions quotas is not quota exhaustion
    (FakeStatusError("Requests exceed the rate limit; see aka.ms/oai/quotaincrease", 429,
                     {"retry-after": "2"}), "RateLimited", False),
    (FakeStatusError("Your credit balance is too low to access the API", 400), "QuotaExhausted", True),
    (FakeStatusError("payment required", 402), "QuotaExhausted", True),
    (FakeStatusError("rate limited", 429, {"retry-after": "2"}), "RateLimited", False),
    (FakeStatusError("prompt is too long: 250000 tokens", 400), "ContextWindowExceeded", True),
    (FakeStatusError("Overloaded", 529), "ProviderUnavailable", False),
    (FakeStatusError("bad gateway", 502), "ProviderUnavailable", False),
    (FakeStatusError("nope", 403), "PermissionDenied", True),
    (FakeStatusError("too big", 413), "RequestTooLarge", True),
    (TypeError("Could not resolve authentication method"), "ClientConfiguration", True),
    (TimeoutError("read timed out"), "ProviderUnavailable", False),
])
def test_translation_table(exc: Exception, kind: str, non_retryable: bool) -> None:
    from runner.activity.llm.errors import translate

    err = translate(exc, model="m", secret="sk-x")
    assert (err.type, err.non_retryable) == (kind, non_retryable)
    if kind == "RateLimited":
        assert err.next_retry_delay is not None
        assert 2.0 <= err.next_retry_delay.total_seconds() <= 2.2


def test_the_secret_is_scrubbed_from_messages() -> None:
    from runner.activity.llm.errors import translate

    err = translate(FakeStatusError("Incorrect API key provided: sk-live-123", 401), model="m",
                    secret="sk-live-123")
    assert "sk-live-123" not in err.message and "***" in err.message


@pytest.mark.parametrize("sim", [SimConfig(rate_limit_first=1, retry_after_s=200)], indirect=True)
async def test_a_model_asking_to_wait_longer_than_max_wait_hands_over(
        sim: Simulator, key: str) -> None:
    from temporalio.exceptions import ApplicationError

    from runner.contract.llm import LLMCall, LLMRequest, Message

    llm = LLMActivities(catalog_for(sim), all_responders())
    call = LLMCall(model="claude", request=LLMRequest(messages=[Message(role="user", content="hi")]))
    with pytest.raises(ApplicationError) as info:
        await llm.complete(call)
    assert (info.value.type, info.value.non_retryable) == ("WaitTooLong", True)
    assert info.value.message.startswith("claude: asks to wait 2")
    assert "more than max_wait 120 s" in info.value.message
    # within max_wait the same answer is an ordinary, timed retry
    call = call.model_copy(update={"max_wait_s": 300.0})
    sim.count = 0
    with pytest.raises(ApplicationError) as info:
        await llm.complete(call)
    assert (info.value.type, info.value.non_retryable) == ("RateLimited", False)


def test_structured_quota_codes_and_unreadable_headers() -> None:
    from runner.activity.llm.errors import translate

    spend = FakeStatusError("limit reached", 429)
    spend.error_code = "enforced_spend_limit_reached"  # type: ignore[attr-defined]
    assert translate(spend, model="m").type == "QuotaExhausted"
    # a retry-after nobody can read falls back to the default wait instead of raising
    err = translate(FakeStatusError("slow down", 429, {"retry-after": "soon"}), model="m")
    assert err.type == "RateLimited" and err.next_retry_delay is not None
    assert 10.0 <= err.next_retry_delay.total_seconds() <= 11.0
    naive = translate(FakeStatusError("x", 429, {"retry-after": "Thu, 01 Jan 2099 00:00:00 -0000"}),
                      model="m", max_wait_s=120)
    assert naive.type == "WaitTooLong"


def test_max_wait_is_compared_before_jitter() -> None:
    from runner.activity.llm.errors import translate

    for _ in range(50):
        assert translate(FakeStatusError("x", 429, {"retry-after": "115"}), model="m",
                         max_wait_s=120).type == "RateLimited"
    assert translate(FakeStatusError("x", 429, {"retry-after": "121"}), model="m",
                     max_wait_s=120).type == "WaitTooLong"


@pytest.mark.parametrize("sim", [SimConfig(model_status={"claude-envkey": 401,
                                                          "free-envkey": 401})], indirect=True)
async def test_keys_the_sdks_read_by_themselves_are_scrubbed_too(
        sim: Simulator, monkeypatch: pytest.MonkeyPatch) -> None:
    """No api_key_env: the SDKs take ANTHROPIC_API_KEY / OPENAI_API_KEY from the environment; the
    simulator echoes them in its 401s; the error that Temporal records must not hold them."""
    from temporalio.exceptions import ApplicationError

    from runner.contract.llm import LLMCall, LLMRequest, Message

    secret_a, secret_o = f"sk-ant-{secrets.token_hex(12)}", f"sk-oai-{secrets.token_hex(12)}"
    monkeypatch.setenv("ANTHROPIC_API_KEY", secret_a)
    monkeypatch.setenv("OPENAI_API_KEY", secret_o)
    catalog = Catalog(models={
        "a": ModelSpec(provider="anthropic", model="claude-envkey", base_url=sim.base_url),
        "o": ModelSpec(provider="litellm", model="openai/free-envkey", base_url=f"{sim.base_url}/v1")})
    llm = LLMActivities(catalog, all_responders())
    for name, secret in (("a", secret_a), ("o", secret_o)):
        call = LLMCall(model=name, request=LLMRequest(messages=[Message(role="user", content="hi")]))
        with pytest.raises(ApplicationError) as info:
            await llm.complete(call)
        assert info.value.type == "AuthenticationFailed"
        assert secret not in info.value.message and "***" in info.value.message


@pytest.mark.parametrize("sim", [SimConfig()], indirect=True)
async def test_a_key_with_a_trailing_newline_works(
        sim: Simulator, monkeypatch: pytest.MonkeyPatch) -> None:
    from runner.contract.llm import LLMCall, LLMRequest, Message

    monkeypatch.setenv(KEY_ENV, "sk-from-a-secrets-file\n")
    llm = LLMActivities(catalog_for(sim), all_responders())
    answer = await llm.complete(LLMCall(model="claude", request=LLMRequest(
        messages=[Message(role="user", content="hi")])))
    assert answer.text == "[offline] hi"
