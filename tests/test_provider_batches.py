"""The provider simulator's Anthropic Message Batches API through the real anthropic SDK: a batch is
created once, polled until it ends, and every request's result comes back by its custom_id
(succeeded with the offline model's answer, or errored at the configured rate); a batch cancelled
in time ends with its requests cancelled; an expired one says so."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator

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
