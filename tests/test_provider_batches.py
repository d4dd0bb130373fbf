"""The provider simulator's batch APIs through the real clients: Anthropic's Message Batches (the
anthropic SDK) and OpenAI's Batch API (litellm's file and batch functions). A batch is created once,
polled until it ends, and every request's result comes back by its custom_id (succeeded with the
offline model's answer, or errored at the configured rate); a batch cancelled in time ends with its
requests cancelled; an expired one says so."""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anthropic
import pytest

from runner.config.jobkinds import all_responders
from runner.dev.simulate import SimConfig, Simulator


@pytest.fixture
def sim(request: pytest.FixtureRequest) -> Iterator[Simulator]:
    simulator = Simulator(request.param, all_responders()).start()
    yield simulator
    simulator.stop()


def client(sim: Simulator) -> anthropic.Anthropic:
    return anthropic.Anthropic(api_key="sk-batch", base_url=sim.base_url, max_retries=0)


def requests(n: int) -> list[dict[str, object]]:
    return [{"custom_id": f"topic-{i}", "params": {
        "model": "claude-sim", "max_tokens": 200, "system": "FORMAT: explainer.decompose.v1",
        "messages": [{"role": "user", "content": f"Topic: Derivative of x^{i + 2}"}]}} for i in range(n)]


@pytest.mark.parametrize("sim", [SimConfig(batch_delay_s=1.0, batch_error_rate=0.3, seed=7)], indirect=True)
def test_a_batch_is_created_once_polled_and_answered_by_custom_id(sim: Simulator) -> None:
    api = client(sim)
    batch = api.messages.batches.create(requests=requests(20))  # type: ignore[arg-type]
    assert batch.processing_status == "in_progress" and batch.request_counts.processing == 20
    assert batch.results_url is None
    started = time.monotonic()
    while (batch := api.messages.batches.retrieve(batch.id)).processing_status != "ended":
        assert time.monotonic() - started < 30
        time.sleep(0.1)
    assert time.monotonic() - started >= 0.8  # it took its processing time
    counts = batch.request_counts
    assert (counts.processing, counts.succeeded + counts.errored) == (0, 20) and 0 < counts.errored < 20
    results = list(api.messages.batches.results(batch.id))
    assert sorted(r.custom_id for r in results) == sorted(f"topic-{i}" for i in range(20))
    assert [r.custom_id for r in results] != [f"topic-{i}" for i in range(20)]  # in no set order
    kinds = Counter(r.result.type for r in results)
    assert kinds == {"succeeded": counts.succeeded, "errored": counts.errored}
    for r in results:
        if r.result.type == "succeeded":
            text = r.result.message.content[0].text  # type: ignore[union-attr]
            assert '"scenes"' in text and r.result.message.usage.output_tokens > 0  # type: ignore[union-attr]
    ops = Counter(e["op"] for e in sim.requests)
    assert ops["create"] == 1 and ops["results"] == 1 and ops["retrieve"] >= 2
    assert api.messages.batches.list().data[0].id == batch.id


@pytest.mark.parametrize("sim", [SimConfig(batch_delay_s=60)], indirect=True)
def test_a_batch_cancelled_in_time_ends_with_its_requests_cancelled(sim: Simulator) -> None:
    api = client(sim)
    batch = api.messages.batches.create(requests=requests(3))  # type: ignore[arg-type]
    api.messages.batches.cancel(batch.id)
    batch = api.messages.batches.retrieve(batch.id)
    assert batch.processing_status == "ended" and batch.cancel_initiated_at is not None
    assert batch.request_counts.canceled == 3
    assert {r.result.type for r in api.messages.batches.results(batch.id)} == {"canceled"}


@pytest.mark.parametrize("sim", [SimConfig(batch_delay_s=0, batch_expire=True)], indirect=True)
def test_an_expired_batch_says_so_per_request(sim: Simulator) -> None:
    api = client(sim)
    batch = api.messages.batches.create(requests=requests(4))  # type: ignore[arg-type]
    batch = api.messages.batches.retrieve(batch.id)
    assert batch.request_counts.expired == 4
    assert {r.result.type for r in api.messages.batches.results(batch.id)} == {"expired"}
    with pytest.raises(anthropic.NotFoundError):
        api.messages.batches.retrieve("msgbatch_nosuch")
    with pytest.raises(anthropic.BadRequestError):
        api.messages.batches.create(requests=[])


def openai_lines(n: int) -> bytes:
    return "".join(json.dumps({"custom_id": f"topic-{i}", "method": "POST", "url": "/v1/chat/completions",
                               "body": {"model": "gpt-sim", "max_tokens": 200, "messages": [
                                   {"role": "system", "content": "FORMAT: explainer.decompose.v1"},
                                   {"role": "user", "content": f"Topic: Derivative of x^{i + 2}"}]}}) + "\n"
                   for i in range(n)).encode()


def litellm_kwargs(sim: Simulator) -> dict[str, str]:
    return {"custom_llm_provider": "openai", "api_base": f"{sim.base_url}/v1", "api_key": "sk-batch"}


def submit(kw: dict[str, str], tmp_path: Path, n: int) -> Any:
    """``n`` requests uploaded as a JSONL file and a batch of them created, through litellm."""
    import litellm

    (tmp_path / "in.jsonl").write_bytes(openai_lines(n))
    with open(tmp_path / "in.jsonl", "rb") as f:
        uploaded = litellm.create_file(file=f, purpose="batch", **kw)
    return litellm.create_batch(completion_window="24h", endpoint="/v1/chat/completions",
                                input_file_id=uploaded.id, **kw)


@pytest.mark.parametrize("sim", [SimConfig(batch_delay_s=1.0, batch_error_rate=0.3, seed=5)], indirect=True)
def test_openai_batches_through_litellm_files_and_batches(sim: Simulator, tmp_path: Path) -> None:
    """OpenAI's Batch API through litellm's file and batch functions (the openai SDK underneath):
    the requests' JSONL uploaded, one batch created and polled until completed, every custom_id
    in its output file or its error file."""
    import litellm

    kw = litellm_kwargs(sim)
    batch = submit(kw, tmp_path, 12)
    assert batch.status == "in_progress"
    started = time.monotonic()
    while (batch := litellm.retrieve_batch(batch_id=batch.id, **kw)).status != "completed":
        assert batch.status == "in_progress" and time.monotonic() - started < 30
        time.sleep(0.1)
    counts = batch.request_counts
    assert counts is not None and (counts.total, counts.completed + counts.failed) == (12, 12)
    assert 0 < counts.failed < 12
    output = [json.loads(line) for line in litellm.file_content(file_id=batch.output_file_id, **kw)
              .content.decode().splitlines()]
    errors = [json.loads(line) for line in litellm.file_content(file_id=batch.error_file_id, **kw)
              .content.decode().splitlines()]
    assert sorted(r["custom_id"] for r in output + errors) == sorted(f"topic-{i}" for i in range(12))
    assert len(output) == counts.completed and all(r["response"]["status_code"] == 200 for r in output)
    assert all('"scenes"' in r["response"]["body"]["choices"][0]["message"]["content"] for r in output)
    assert all(r["response"]["status_code"] == 500 for r in errors)
    ops = Counter(e["op"] for e in sim.requests)
    assert (ops["upload"], ops["create"]) == (1, 1)


@pytest.mark.parametrize("sim", [SimConfig(batch_delay_s=60)], indirect=True)
def test_an_openai_batch_cancelled_in_time_is_cancelled(sim: Simulator, tmp_path: Path) -> None:
    import litellm

    kw = litellm_kwargs(sim)
    batch = submit(kw, tmp_path, 2)
    litellm.cancel_batch(batch_id=batch.id, **kw)
    batch = litellm.retrieve_batch(batch_id=batch.id, **kw)
    assert batch.status == "cancelled" and batch.output_file_id is None


@pytest.mark.parametrize("sim", [SimConfig(batch_delay_s=0, batch_expire=True)], indirect=True)
def test_an_expired_openai_batch_lists_every_request_as_expired(sim: Simulator, tmp_path: Path) -> None:
    import litellm

    kw = litellm_kwargs(sim)
    batch = submit(kw, tmp_path, 3)
    batch = litellm.retrieve_batch(batch_id=batch.id, **kw)
    assert batch.status == "expired" and batch.output_file_id is None
    errors = [json.loads(line) for line in litellm.file_content(file_id=batch.error_file_id, **kw)
              .content.decode().splitlines()]
    assert sorted(e["custom_id"] for e in errors) == ["topic-0", "topic-1", "topic-2"]
    assert {e["error"]["code"] for e in errors} == {"batch_expired"}


@pytest.mark.parametrize("sim", [SimConfig(batch_delay_s=30)], indirect=True)
async def test_a_window_submitted_again_finds_its_openai_batch_instead_of_making_another(
        sim: Simulator) -> None:
    """Batch delivery's OpenAI path names the window in the batch's metadata: an attempt that died
    after creating the batch is followed by one that finds it there (Anthropic's API has no such
    place: see docs/architecture.md)."""
    from runner.activity.llm.provider_batches import OpenAIBatches
    from runner.config.catalog import ModelSpec
    from runner.contract.llm import LLMRequest, Message

    spec = ModelSpec(provider="litellm", model="openai/gpt-sim", base_url=f"{sim.base_url}/v1")
    api = OpenAIBatches(spec, "sk-batch")
    calls = [(f"c{i}", LLMRequest(messages=[Message(role="user", content=f"Topic: x^{i}")]))
             for i in range(3)]
    first = await api.create(calls, "run1-w1")
    assert await api.create(calls, "run1-w1") == first  # the same window: the same batch
    assert await api.create(calls, "run1-w2") != first
    ops = Counter(e["op"] for e in sim.requests if e.get("api") == "openai-batch")
    assert (ops["create"], ops["upload"]) == (2, 2)
    assert (await api.poll(first)).state == "in_progress"
