"""Provider limits: rate limits shared by workers (the model's own task queue, whose dispatch rate the
Temporal server holds, and each worker's pacing) and quotas shared by the topics of a batch, against
the provider simulator through the real anthropic client."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from runner.activity.llm.pacing import BURST_S, HEADROOM, Pacer, TokenBucket
from runner.client.server import ServerInfo
from runner.config.catalog import Catalog, ModelSpec
from runner.config.jobkinds import job_kinds
from runner.contract.llm import LLMRequest, Message
from runner.contract.names import BATCH_WORKFLOW, child_id
from runner.contract.types import BatchInput, BatchResult, TopicSpec
from runner.dev.histories import history_figures
from runner.dev.simulate import SimConfig, Simulator
from runner.worker.assembly import build_worker
from tests.workers import batch_input, results

KEY_ENV = "RUNNER_TEST_RL_KEY"


class Clock:
    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.now = 1000.0
        monkeypatch.setattr("runner.activity.llm.pacing.time.monotonic", lambda: self.now)


def test_a_bucket_refills_at_its_rate_holds_its_burst_and_splits_among_workers(
        monkeypatch: pytest.MonkeyPatch) -> None:
    clock = Clock(monkeypatch)
    bucket = TokenBucket(per_minute=600 * HEADROOM, burst_s=BURST_S)  # as a pacer's: 10 a second
    rate = 10 * HEADROOM
    assert bucket.wait_for(rate) == 0  # starts full: one second's worth
    bucket.take(rate)
    assert bucket.wait_for(1) == pytest.approx(1 / rate)
    clock.now += 0.5
    assert bucket.wait_for(rate) == pytest.approx(0.5)
    clock.now += 100  # never more than one second's worth
    assert bucket.wait_for(rate) == 0 and bucket.wait_for(rate + 5) == 0
    bucket.give(rate)
    assert bucket.remaining() == int(rate)
    bucket.take(3 * rate)  # a take larger than the bucket leaves it in debt
    assert bucket.wait_for(1) == pytest.approx(2 + 1 / rate)
    bucket.split(2)  # two workers share the budget: each gets half the rate
    assert bucket.rate == pytest.approx(rate / 2)


def test_a_token_reservation_learns_the_answers_size() -> None:
    pacer = Pacer(rpm=None, tpm=6000)
    request = LLMRequest(system="s" * 40, messages=[Message(role="user", content="u" * 360)],
                         max_tokens=500)
    assert pacer.reservation(request) == 100 + 500  # input estimate + max_tokens: nothing seen yet
    pacer.settle(600, input_tokens=90, output_tokens=40)
    assert pacer.reservation(request) == 100 + 40
    pacer.settle(140, input_tokens=90, output_tokens=140)
    assert pacer.reservation(request) == 100 + 60  # a moving average, never above max_tokens


@pytest.fixture
def key(monkeypatch: pytest.MonkeyPatch) -> str:
    value = f"sk-rl-{uuid.uuid4().hex}"
    monkeypatch.setenv(KEY_ENV, value)
    return value


@pytest.fixture
def sim(request: pytest.FixtureRequest) -> Iterator[Simulator]:
    simulator = Simulator(request.param).start()
    yield simulator
    simulator.stop()


def catalog(sim: Simulator, **limits: int) -> Catalog:
    def spec(model: str) -> ModelSpec:
        return ModelSpec(provider="anthropic", model=model, api_key_env=KEY_ENV, base_url=sim.base_url,
                         max_concurrency=16, **limits)  # type: ignore[arg-type]
    return Catalog(models={"claude": spec("claude-sim"), "spent": spec("claude-spent")})


def prompt_batch(task_queue: str, out: Path, n: int, chain: tuple[str, ...] = ("claude",),
                 concurrency: int | None = None, **fields: Any) -> BatchInput:
    kind = job_kinds()["prompt"]
    return batch_input(
        batch_id=f"rl-{task_queue}", name="rl", job="prompt", child_workflow=kind.workflow_name,
        task_queue=task_queue, output_dir=out, concurrency=concurrency or n, manifest="m.yaml",
        topics=[TopicSpec(id=f"t{i}", topic=f"topic {i}", models={"answer": list(chain)},
                          params={"prompt": "Say something about {topic}.", "max_tokens": 64})
                for i in range(n)], **fields)


@pytest.mark.parametrize("sim", [SimConfig(rpm=120)], indirect=True)
async def test_two_workers_share_one_models_request_rate(
        client: Client, temporal_server: ServerInfo, task_queue: str, tmp_path: Path, sim: Simulator,
        key: str) -> None:
    """Two workers (separate connections, as separate machines would have) each run the model's queue
    with rpm 120: together they stay under 120 a minute, so the provider never answers 429."""
    n = 12
    cat = catalog(sim, rpm=120)
    other = await Client.connect(temporal_server.address, data_converter=pydantic_data_converter)
    async with build_worker(client, task_queue=task_queue, catalog=cat, identity="worker-a"), \
            build_worker(other, task_queue=task_queue, catalog=cat, identity="worker-b"):
        batch = prompt_batch(task_queue, tmp_path, n)
        result = await client.execute_workflow(BATCH_WORKFLOW, batch, id=batch.batch_id,
                                               task_queue=task_queue, result_type=BatchResult)
    assert result.succeeded == n
    assert [r["status"] for r in sim.requests] == [200] * n
    times = sorted(r["t"] for r in sim.requests)
    # 2 a second together (times HEADROOM) after a start of up to a second's worth per worker; each
    # worker at the full rate would have taken half as long
    rate = 2 * HEADROOM
    assert times[-1] - times[0] >= (n - 1 - 2 * rate) / rate - 0.2
    served_by = set()
    for topic_id in (f"t{i}" for i in range(n)):
        history = await client.get_workflow_handle(child_id(batch.batch_id, topic_id)).fetch_history()
        served_by |= {e.activity_task_started_event_attributes.identity for e in history.events
                      if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED}
    assert {"worker-a", "worker-b"} <= served_by


@pytest.mark.parametrize("sim", [SimConfig(tpm=2400)], indirect=True)
async def test_a_token_limited_model_is_paced_not_rate_limited(
        client: Client, task_queue: str, tmp_path: Path, sim: Simulator, key: str) -> None:
    """No rpm binds; 2400 tokens a minute does. The worker paces by tokens (reserving max_tokens
    until it has seen an answer, then what answers cost), so the provider never answers 429."""
    n = 8
    async with build_worker(client, task_queue=task_queue, catalog=catalog(sim, tpm=2400)):
        batch = prompt_batch(task_queue, tmp_path, n)
        result = await client.execute_workflow(BATCH_WORKFLOW, batch, id=batch.batch_id,
                                               task_queue=task_queue, result_type=BatchResult)
    assert result.succeeded == n
    assert [r["status"] for r in sim.requests] == [200] * n
    requests = sorted(sim.requests, key=lambda r: r["t"])
    before_last = sum(r["input_tokens"] + r["output_tokens"] for r in requests[:-1])
    rate = 2400 * HEADROOM / 60  # tokens a second; one second's worth may go at once
    assert requests[-1]["t"] - requests[0]["t"] >= (before_last - rate) / rate - 0.5


@pytest.mark.parametrize("sim", [SimConfig(model_status={"claude-spent": 402})], indirect=True)
async def test_a_model_whose_quota_ran_out_is_not_called_again_in_the_batch(
        client: Client, task_queue: str, tmp_path: Path, sim: Simulator, key: str) -> None:
    async with build_worker(client, task_queue=task_queue, catalog=catalog(sim)):
        batch = prompt_batch(task_queue, tmp_path, 3, chain=("spent", "claude"), concurrency=1)
        result = await client.execute_workflow(BATCH_WORKFLOW, batch, id=batch.batch_id,
                                               task_queue=task_queue, result_type=BatchResult)
    assert result.succeeded == 3
    assert [(r["model"], r["status"]) for r in sim.requests] == [
        ("claude-spent", 402), ("claude-sim", 200), ("claude-sim", 200), ("claude-sim", 200)]
    report = json.loads(Path(result.report_json).read_text())
    assert report["models_out"] == ["spent"]
    first, *later = [t["steps"][0]["models_tried"] for t in results(tmp_path)]
    assert (first[0]["outcome"], first[1]["outcome"]) == ("failed", "answered")
    assert all(tried[0]["outcome"] == "skipped" for tried in later)


@pytest.mark.parametrize("sim", [SimConfig(model_status={"claude-spent": 402})], indirect=True)
async def test_a_model_out_of_quota_stays_out_when_the_batch_continues_as_new(
        client: Client, task_queue: str, tmp_path: Path, sim: Simulator, key: str) -> None:
    async with build_worker(client, task_queue=task_queue, catalog=catalog(sim)):
        batch = prompt_batch(task_queue, tmp_path, 16, chain=("spent", "claude"), concurrency=3,
                             events_per_run=40)
        result = await client.execute_workflow(BATCH_WORKFLOW, batch, id=batch.batch_id,
                                               task_queue=task_queue, result_type=BatchResult)
        figures = await history_figures(client, batch.batch_id)
    assert result.succeeded == 16 and figures.runs >= 3, figures
    # only the topics that were running when the first one found it out asked it
    assert 1 <= sum(r["model"] == "claude-spent" for r in sim.requests) <= 3
    assert json.loads(Path(result.report_json).read_text())["models_out"] == ["spent"]
    assert sum(t["steps"][0]["models_tried"][0]["outcome"] == "skipped" for t in results(tmp_path)) >= 13
