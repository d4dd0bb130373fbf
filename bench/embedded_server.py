"""Benchmark: batch throughput of the embedded Temporal server by storage setting, side by side.

The batch and explainer workflows run for real (parent fan-out, children, five steps each, result
files and report); the step activities are no-ops, so what is measured is orchestration: how fast
the server persists and dispatches. Three servers, one run, same machine:

  memory           dev server without a database (nothing survives a restart; reference only)
  sqlite-default   --db-filename with SQLite's default pragmas
  sqlite-wal       --db-filename with journal_mode=wal, synchronous=normal  (what runner uses)

Usage: python bench/embedded_server.py [--topics 150] [--concurrency 100]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from pathlib import Path

from temporalio import activity
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from jobs.explainer.types import (
    MERGE_ACTIVITY,
    RENDER_ACTIVITY,
    VALIDATE_ACTIVITY,
    MergeInput,
    MergeOutput,
    RenderInput,
    RenderOutput,
    SceneFile,
    ValidateInput,
    ValidateOutput,
)
from jobs.explainer.workflow import ExplainerWorkflow
from runner.activity.engine import EngineActivities
from runner.client import server
from runner.client.server import _free_port
from runner.config.catalog import Catalog, ModelSpec
from runner.contract.llm import LLMCall, LLMResponse
from runner.contract.names import BATCH_WORKFLOW, LLM_ACTIVITY
from runner.contract.types import BatchInput, BatchResult, PlannedTopic, TopicSpec
from runner.store.topics import write_topics
from runner.worker.assembly import WorkerSet, model_workers, steps_worker, workflow_worker
from runner.workflow.batch import BatchWorkflow

MODELS = Catalog(models={"x": ModelSpec(provider="offline")})  # its calls are the no-op below
PLAN = json.dumps({"title": "t", "scenes": [{"id": "s1", "title": "a"}]})
SCRIPT = json.dumps({"scenes": [{"id": "s1", "class_name": "S1", "code": "pass", "claims": []}]})


@activity.defn(name=LLM_ACTIVITY)
async def llm(call: LLMCall) -> LLMResponse:
    text = PLAN if "decompose" in call.request.system else SCRIPT
    return LLMResponse(text=text, model=call.model, provider="bench", provider_model="noop", attempt=1)


@activity.defn(name=VALIDATE_ACTIVITY)
async def validate(inp: ValidateInput) -> ValidateOutput:
    return ValidateOutput(scenes=[SceneFile(id="s1", path="s1.py", class_name="S1")], claims=[],
                          attempt=1)


@activity.defn(name=RENDER_ACTIVITY)
async def render(inp: RenderInput) -> RenderOutput:
    return RenderOutput(videos=["s1.mp4"], rendered=["s1"], attempt=1)


@activity.defn(name=MERGE_ACTIVITY)
async def merge(inp: MergeInput) -> MergeOutput:
    return MergeOutput(video=inp.output, duration_s=1.0, codec="h264", width=1, height=1,
                       reencoded=False, attempt=1)


async def one_run(name: str, pragmas: tuple[str, ...], persist: bool, topics: int,
                  concurrency: int, work: Path) -> float:
    home = work / name
    info, _ = server.start(home, port=_free_port(), pragmas=pragmas, persist=persist, owned=True)
    try:
        client = await Client.connect(info.address, data_converter=pydantic_data_converter)
        queue = f"bench-{name}"
        out = home / "out"
        file = write_topics(out, (PlannedTopic(spec=TopicSpec(
            id=f"t{i}", topic=f"t{i}", models={"decompose": ["x"], "script": ["x"]},
            params={"quality": "low", "narration": False}))  # bare's five steps: no voice
        for i in range(topics)))
        # the task queues runner's workers serve: workflows, the job steps, one per model
        workers = WorkerSet(client, [
            workflow_worker(client, queue, [BatchWorkflow, ExplainerWorkflow],
                            EngineActivities().activities()),
            steps_worker(client, queue, [validate, render, merge]),
            *model_workers(client, task_queue=queue, catalog=MODELS, activity=llm)])
        async with workers:
            start = time.perf_counter()
            result = await client.execute_workflow(
                BATCH_WORKFLOW,
                BatchInput(batch_id=f"bench-{name}", name="bench", job="explainer",
                           child_workflow="explainer.topic", task_queue=queue,
                           output_dir=str(out), concurrency=concurrency, manifest="bench",
                           topics_file=file.path, total=file.total),
                id=f"bench-{name}", task_queue=queue, result_type=BatchResult)
            wall = time.perf_counter() - start
        assert result.succeeded == topics, result
        return wall
    finally:
        server.stop(home)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--topics", type=int, default=150)
    parser.add_argument("--concurrency", type=int, default=100)
    args = parser.parse_args()
    variants = [("memory", (), False), ("sqlite-default", (), True),
                ("sqlite-wal", server.SQLITE_PRAGMAS, True)]
    print(f"{args.topics} topics x 5 steps (+ result and report), concurrency {args.concurrency}, "
          f"no-op activities; one worker")
    walls: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, pragmas, persist in variants:
            walls[name] = await one_run(name, pragmas, persist, args.topics, args.concurrency,
                                        Path(tmp))
            print(f"  {name:15s} wall {walls[name]:7.2f} s   {args.topics / walls[name]:6.1f} topics/s")
    print(f"sqlite-wal vs sqlite-default: {walls['sqlite-default'] / walls['sqlite-wal']:.2f}x faster; "
          f"sqlite-wal vs memory: {walls['sqlite-wal'] / walls['memory']:.2f}x the wall time")


if __name__ == "__main__":
    asyncio.run(main())
