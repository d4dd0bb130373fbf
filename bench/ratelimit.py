"""Benchmark: a batch against a rate-limited provider, three ways, side by side in one run.

300 `prompt` topics, all eligible at once, against the provider simulator (a fresh one per contender,
so each starts with full buckets), with the same requests:

  runner      `runner submit` as users run it (in-process worker, embedded Temporal): the model's own
              task queue, dispatch rate from the catalog's rpm, tpm pacing, retry-after honoured
  seed        the same calls as Temporal activities with the seed retry policy only (5 attempts, 2 s,
              x2, 60 s cap), no shared rate limit, retry-after ignored
  router      an asyncio script: litellm's Router with the model's rpm/tpm set, pre-call checks on,
              and retries on (num_retries=5)

Variant `rpm`: the simulator allows --rpm requests a minute (ideal makespan = topics / rpm).
Variant `tpm`: tokens bind instead: the simulator allows 20x the rpm, and a tpm such that the batch's
tokens (measured from the rpm variant's answers) take the same ideal makespan.

Printed per contender: topics succeeded, wall time, wall / ideal, 429 responses (share of requests),
total requests.

Usage: python bench/ratelimit.py [--topics 300] [--rpm 600] [--latency 0.5] [--variants rpm,tpm]
       [--contenders runner,seed,router]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import json
import logging
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from temporalio import activity, workflow
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from jobs.prompt.types import PromptOptions
from jobs.prompt.workflow import first_request
from runner.activity.llm.offline import offline_answer
from runner.activity.llm.pacing import estimate_input_tokens
from runner.client import server
from runner.client.connect import Target
from runner.client.server import _free_port
from runner.client.submit import submit
from runner.config.catalog import load_catalog
from runner.config.jobkinds import all_responders
from runner.config.manifest import load_manifest
from runner.contract.llm import LLMRequest
from runner.contract.policy import DEFAULT_RETRY
from runner.dev.simulate import SimConfig
from runner.isolation.proc import dies_with_parent
from runner.worker.assembly import build_worker, run_until

KEY_ENV = "BENCH_SIM_KEY"
KEY = "sk-bench-not-a-real-key"
PROMPT = "In two sentences, what is {topic} used for?"
MAX_TOKENS = 256
CONCURRENCY = 32  # calls in flight per worker, for every contender that has such a knob


def topics(n: int) -> list[str]:
    return [f"the number {i} in base {2 + i % 15}" for i in range(n)]


@dataclass
class Outcome:
    succeeded: int
    wall_s: float
    requests: int
    limited: int
    first_s: float  # first and last request, seconds after the contender started
    last_s: float


# --- (a) runner ---------------------------------------------------------------------------------

async def run_runner(sim: SimProcess, names: list[str], rpm: int, tpm: int | None, work: Path,
                     client: Client, target: Target) -> int:
    (work / "models.yaml").write_text(
        "models:\n"
        f"  sim: {{provider: anthropic, model: claude-sim, api_key_env: {KEY_ENV}, "
        f"base_url: '{sim.base_url}', rpm: {rpm}" + (f", tpm: {tpm}" if tpm else "")
        + f", max_concurrency: {CONCURRENCY}, price: {{input_per_mtok: 3, output_per_mtok: 15}}}}\n")
    lines = "\n".join(f"  - {name}" for name in names)
    (work / "batch.yaml").write_text(
        f"name: bench\njob: prompt\nconcurrency: {len(names)}\noutput_dir: {work / 'out'}\ncache: off\n"
        f"models: {{answer: [sim]}}\nprompt: '{PROMPT}'\nmax_tokens: {MAX_TOKENS}\ntopics:\n{lines}\n")
    catalog = load_catalog(work / "models.yaml")
    plan = load_manifest(work / "batch.yaml", catalog)
    queue = f"bench-{work.name}"

    async def local_worker(stop: asyncio.Event) -> None:
        await run_until(build_worker(client, task_queue=queue, catalog=catalog), stop)

    result = await submit(client, target, plan, task_queue=queue, wait=True, worker=True,
                          echo=lambda _line: None, local_worker=local_worker)
    assert result is not None
    return result.succeeded


# --- (b) the seed policy --------------------------------------------------------------------------

SEED_QUEUE = "bench-seed"


@activity.defn(name="bench.seed_call")
async def seed_call(args: dict[str, Any]) -> str:
    """One call with the anthropic SDK (its retries off); any error fails the attempt."""
    import anthropic

    client = anthropic.AsyncAnthropic(api_key=KEY, base_url=args["base_url"], max_retries=0)
    request = LLMRequest.model_validate(args["request"])
    message = await client.messages.create(
        model="claude-sim", max_tokens=request.max_tokens, system=request.system,
        messages=[{"role": m.role, "content": m.content} for m in request.messages])
    return "".join(getattr(b, "text", "") for b in message.content)


@workflow.defn(name="bench.seed")
class SeedBatch:
    @workflow.run
    async def run(self, calls: list[dict[str, Any]]) -> int:
        results = await asyncio.gather(*(workflow.execute_activity(
            "bench.seed_call", call, task_queue=SEED_QUEUE, start_to_close_timeout=timedelta(minutes=2),
            retry_policy=DEFAULT_RETRY) for call in calls), return_exceptions=True)
        return sum(1 for r in results if isinstance(r, str))


async def run_seed(sim: SimProcess, names: list[str], client: Client) -> int:
    calls = [{"base_url": sim.base_url, "request": request_for(n).model_dump()} for n in names]
    async with Worker(client, task_queue=SEED_QUEUE, workflows=[SeedBatch], activities=[seed_call],
                      workflow_runner=UnsandboxedWorkflowRunner(), max_concurrent_activities=CONCURRENCY):
        succeeded: int = await client.execute_workflow(
            "bench.seed", calls, id=f"bench-seed-{time.time_ns()}", task_queue=SEED_QUEUE)
    return succeeded


# --- (c) litellm Router ---------------------------------------------------------------------------

async def run_router(sim: SimProcess, names: list[str], rpm: int, tpm: int | None) -> int:
    import litellm
    from litellm import Router

    litellm.suppress_debug_info = True
    params: dict[str, Any] = {"model": "openai/router-sim", "api_base": f"{sim.base_url}/v1",
                              "api_key": KEY, "rpm": rpm}
    if tpm:
        params["tpm"] = tpm
    router = Router(model_list=[{"model_name": "sim", "litellm_params": params}], num_retries=5,
                    enable_pre_call_checks=True, routing_strategy="usage-based-routing-v2")
    gate = asyncio.Semaphore(CONCURRENCY)

    async def one(name: str) -> bool:
        request = request_for(name)
        async with gate:
            try:
                await router.acompletion(model="sim", max_tokens=request.max_tokens, messages=[
                    {"role": "system", "content": request.system},
                    *({"role": m.role, "content": m.content} for m in request.messages)])
            except Exception:
                return False
        return True

    return sum(await asyncio.gather(*(one(n) for n in names)))


# --- the run ---------------------------------------------------------------------------------------

async def run_contender(name: str, sim: SimProcess, *, names: list[str], limits: tuple[int, int | None],
                        work: Path, client: Client, target: Target) -> int:
    if name == "runner":
        return await run_runner(sim, names, *limits, work, client, target)
    if name == "seed":
        return await run_seed(sim, names, client)
    return await run_router(sim, names, *limits)


def request_for(topic: str) -> LLMRequest:
    return first_request(PromptOptions(prompt=PROMPT, max_tokens=MAX_TOKENS), topic)


@dataclass
class SimProcess:
    """`runner simulate` in its own process (a provider is not in the client's process either)."""

    base_url: str


async def measure(config: SimConfig, contender: Callable[[SimProcess], Awaitable[int]],
                  work: Path) -> Outcome:
    port = _free_port()
    log = work / f"requests-{port}.jsonl"
    cmd = [str(Path(sys.executable).parent / "runner"), "simulate", "--port", str(port),
           "--latency", str(config.latency_s), "--log", str(log)]
    cmd += ["--rpm", str(config.rpm)] if config.rpm else []
    cmd += ["--tpm", str(config.tpm)] if config.tpm else []
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True,
                            preexec_fn=dies_with_parent())  # a killed bench leaves no simulator
    try:
        assert proc.stdout is not None and "provider simulator on" in proc.stdout.readline()
        start, epoch = time.perf_counter(), time.time()
        succeeded = await contender(SimProcess(base_url=f"http://127.0.0.1:{port}"))
        wall = time.perf_counter() - start
    finally:
        proc.terminate()
        proc.wait(10)
    requests = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    times = [r["t"] - epoch for r in requests] or [0.0]
    return Outcome(succeeded=succeeded, wall_s=wall, requests=len(requests),
                   limited=sum(1 for r in requests if r["status"] == 429),
                   first_s=min(times), last_s=max(times))


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--topics", type=int, default=300)
    parser.add_argument("--rpm", type=int, default=600)
    parser.add_argument("--latency", type=float, default=0.5, help="simulator seconds per answer")
    parser.add_argument("--variants", default="rpm,tpm")
    parser.add_argument("--contenders", default="runner,seed,router")
    args = parser.parse_args()
    variants = args.variants.split(",")
    contenders = args.contenders.split(",")
    names = topics(args.topics)
    ideal = args.topics / (args.rpm / 60)
    os.environ[KEY_ENV] = KEY
    for noisy in ("LiteLLM Router", "LiteLLM", "temporalio"):  # every retried failure, with a traceback
        logging.getLogger(noisy).setLevel(logging.CRITICAL)

    # The batch's tokens, for the tpm variant, as the simulator counts them.
    responders = all_responders()
    total_tokens = sum(estimate_input_tokens(request_for(n)) + offline_answer(request_for(n), responders)[1]
                       .output_tokens for n in names)
    tpm = int(total_tokens / ideal * 60)

    print(f"{args.topics} prompt topics, all eligible at once; simulator latency {args.latency} s; "
          f"ideal makespan {ideal:.1f} s; {CONCURRENCY} calls in flight per worker at most")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        info, _ = server.start(work / "home", port=_free_port(), owned=True)
        try:
            client = await Client.connect(info.address, data_converter=pydantic_data_converter)
            target = Target(address=info.address, namespace="default", embedded=True, options={})
            for variant in variants:
                if variant == "rpm":
                    sim_config = SimConfig(rpm=args.rpm, latency_s=args.latency)
                    limits = (args.rpm, None)
                    print(f"\nvariant rpm: simulator rpm={args.rpm}")
                else:
                    sim_config = SimConfig(rpm=args.rpm * 20, tpm=tpm, latency_s=args.latency)
                    limits = (args.rpm * 20, tpm)
                    print(f"\nvariant tpm: simulator rpm={args.rpm * 20} tpm={tpm} "
                          f"(the batch's {total_tokens} tokens in {ideal:.0f} s)")
                for name in contenders:
                    (work / f"runner-{variant}").mkdir(exist_ok=True)
                    out = await measure(sim_config, functools.partial(
                        run_contender, name, names=names, limits=limits,
                        work=work / f"runner-{variant}", client=client, target=target), work)
                    share = out.limited / out.requests if out.requests else 0.0
                    print(f"  {name:7s} succeeded {out.succeeded:4d}/{args.topics}   wall {out.wall_s:6.1f} s"
                          f"   wall/ideal {out.wall_s / ideal:5.2f}   429s {out.limited:5d} "
                          f"({share:6.1%})   requests {out.requests:5d} "
                          f"(sent {out.first_s:.1f}-{out.last_s:.1f} s)")
        finally:
            with contextlib.suppress(Exception):
                server.stop(work / "home")


if __name__ == "__main__":
    asyncio.run(main())
