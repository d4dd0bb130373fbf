"""Benchmark: fan-out of a large batch on the embedded server, runner beside bare Temporal.

One embedded server (SQLite WAL, what runner uses), one run, three parts:

  validate  `runner validate` of a generated N-topic prompt manifest: seconds and peak RSS
  shape     the same fan-out both ways, each side in its own worker process, one after the other:
              bare    bench/bare.py: Temporal's sliding-window pattern by hand, children of five
                      no-op activities
              runner  runner's batch workflow and the explainer's topic workflow (five steps) with
                      no-op activities, plus what runner adds: result files, the report
            prints topics/s, parent runs, most history events in a run, the largest payload, the
            worker's peak RSS, and runner / bare
  prompt    the prompt job (offline model) through the real command line: `runner worker` and
            `runner submit --wait --no-worker` as separate processes: topics/s, both peak RSS,
            parent runs and events, the largest payload, results.jsonl lines

Usage: python bench/fanout.py [--topics 10000] [--concurrency 200] [--parts validate,shape,prompt]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml
from bare import STEPS, PeakRss, cpu_s, run_bare
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from runner.client import server
from runner.client.server import _free_port
from runner.contract.names import BATCH_WORKFLOW, child_id
from runner.contract.types import BatchInput, BatchResult, PlannedTopic, TopicSpec
from runner.dev.histories import history_figures
from runner.isolation.proc import dies_with_parent
from runner.store.files import RESULTS_JSONL
from runner.store.topics import write_topics

RUNNER = str(Path(sys.executable).with_name("runner"))
PARTS = ("validate", "shape", "prompt")


def manifest(path: Path, topics: int, concurrency: int) -> Path:
    """A prompt manifest of ``topics`` topics on the offline model."""
    path.write_text(yaml.safe_dump({
        "name": "fanout", "job": "prompt", "prompt": "Define {topic}", "concurrency": concurrency,
        "models": {"default": ["offline"]}, "output_dir": str(path.parent / "out"),
        "cache": "off",  # fan-out and orchestration are measured; the step cache is not
        "topics": [f"term number {i}" for i in range(topics)]}, sort_keys=False))
    return path


def peak_of(cmd: list[str], env: dict[str, str], **kw: object) -> tuple[float, float, str]:
    """Run ``cmd`` to its end: seconds, peak RSS in MB (it and its children), its output."""
    start = time.perf_counter()
    with subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          preexec_fn=dies_with_parent(), **kw) as proc:  # type: ignore[call-overload]
        rss = PeakRss(proc.pid, children=True).start()
        out, _ = proc.communicate()
    wall = time.perf_counter() - start
    if proc.returncode:
        raise RuntimeError(f"{' '.join(cmd)} exited {proc.returncode}:\n{out[-3000:]}")
    return wall, rss.stop(), out


# ---- the runner side of "shape", run in its own process (--side runner) -------------------------

async def runner_side(address: str, topics: int, concurrency: int, work: Path) -> dict[str, float]:
    from embedded_server import MODELS, llm, merge, render, validate

    from jobs.explainer.workflow import ExplainerWorkflow
    from runner.activity.engine import EngineActivities
    from runner.worker.assembly import WorkerSet, model_workers, steps_worker, workflow_worker
    from runner.workflow.batch import BatchWorkflow

    client = await Client.connect(address, data_converter=pydantic_data_converter)
    queue = "bench-runner"
    out = work / "runner-out"
    file = write_topics(out, (PlannedTopic(spec=TopicSpec(
        id=f"t{i}", topic=f"t{i}", models={"decompose": ["x"], "script": ["x"]},
        params={"quality": "low", "narration": False}))  # bare's five steps: no voice
    for i in range(topics)))
    inp = BatchInput(batch_id="bench-runner", name="bench", job="explainer",
                     child_workflow="explainer.topic", task_queue=queue, output_dir=str(out),
                     concurrency=concurrency, manifest="bench", topics_file=file.path,
                     total=file.total)
    workers = WorkerSet(client, [
        workflow_worker(client, queue, [BatchWorkflow, ExplainerWorkflow], EngineActivities().activities()),
        steps_worker(client, queue, [validate, render, merge]),
        *model_workers(client, task_queue=queue, catalog=MODELS, activity=llm)])
    rss = PeakRss().start()
    cpu = time.process_time()
    async with workers:
        start = time.perf_counter()
        result = await client.execute_workflow(BATCH_WORKFLOW, inp, id=inp.batch_id, task_queue=queue,
                                               result_type=BatchResult)
        wall = time.perf_counter() - start
    peak = rss.stop()
    if result.succeeded != topics:
        raise RuntimeError(f"runner batch: {result}")
    figures = await history_figures(client, inp.batch_id)
    child = await history_figures(client, child_id(inp.batch_id, f"t{topics - 1}"))
    return {"topics": topics, "wall_s": wall, "topics_per_s": topics / wall, "runs": figures.runs,
            "max_events_per_run": figures.max_events,
            "largest_payload_bytes": max(figures.largest_payload, child.largest_payload),
            "peak_rss_mb": peak, "worker_cpu_s": time.process_time() - cpu}


async def bare_side(address: str, topics: int, concurrency: int) -> dict[str, float]:
    client = await Client.connect(address, data_converter=pydantic_data_converter)
    rss = PeakRss().start()
    cpu = time.process_time()
    figures = await run_bare(client, topics=topics, concurrency=concurrency, task_queue="bench-bare",
                             events_per_run=BatchInput.model_fields["events_per_run"].default)
    return {**figures, "peak_rss_mb": rss.stop(), "worker_cpu_s": time.process_time() - cpu}


def side(name: str, address: str, server_pid: int, args: argparse.Namespace,
         work: Path) -> dict[str, float]:
    """One side of "shape" in a fresh process (its own worker, its own memory), with the CPU the
    server spent meanwhile."""
    cmd = [sys.executable, __file__, "--side", name, "--address", address, "--topics", str(args.topics),
           "--concurrency", str(args.concurrency), "--work", str(work)]
    server_cpu = cpu_s(server_pid)
    done = subprocess.run(cmd, capture_output=True, text=True, check=False, preexec_fn=dies_with_parent())
    if done.returncode:
        raise RuntimeError(f"{name} side failed:\n{done.stdout[-2000:]}{done.stderr[-3000:]}")
    figures: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    figures["server_cpu_s"] = cpu_s(server_pid) - server_cpu
    return figures


def line(name: str, f: dict[str, float]) -> str:
    per = 1000 / f["topics"]
    return (f"  {name:7s} wall {f['wall_s']:8.1f} s  {f['topics_per_s']:6.1f} topics/s  "
            f"{f['runs']:4.0f} parent runs  max {f['max_events_per_run']:5.0f} events/run  largest payload "
            f"{f['largest_payload_bytes'] / 1024:6.1f} KB  worker peak RSS {f['peak_rss_mb']:5.0f} MB  "
            f"CPU/topic: worker {f['worker_cpu_s'] * per:5.1f} ms, server {f['server_cpu_s'] * per:5.1f} ms")


# ---- the parts ---------------------------------------------------------------------------------

def part_validate(args: argparse.Namespace, work: Path, env: dict[str, str]) -> None:
    path = manifest(work / "validate.yaml", args.topics, args.concurrency)
    wall, rss, _ = peak_of([RUNNER, "validate", str(path)], env)
    print(f"validate: {args.topics} topics in {wall:.2f} s, peak RSS {rss:.0f} MB")


def part_shape(args: argparse.Namespace, work: Path, address: str, server_pid: int) -> None:
    print(f"shape: {args.topics} topics x {STEPS} no-op steps, concurrency {args.concurrency}, one "
          "worker process each")
    bare = side("bare", address, server_pid, args, work)
    print(line("bare", bare))
    ours = side("runner", address, server_pid, args, work)
    print(line("runner", ours))
    print(f"  runner / bare: {ours['topics_per_s'] / bare['topics_per_s']:.2f}x the topics/s "
          f"(goal >= 0.85x); CPU per topic runner / bare: worker "
          f"{ours['worker_cpu_s'] / bare['worker_cpu_s']:.2f}x, server "
          f"{ours['server_cpu_s'] / bare['server_cpu_s']:.2f}x (2 cores: the two together bound "
          "the topics/s)")


def part_prompt(args: argparse.Namespace, work: Path, env: dict[str, str], address: str) -> None:
    path = manifest(work / "prompt.yaml", args.topics, args.concurrency)
    worker = subprocess.Popen([RUNNER, "worker"], env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, preexec_fn=dies_with_parent())
    worker_rss = PeakRss(worker.pid, children=True).start()
    try:
        wall, submit_rss, out = peak_of([RUNNER, "submit", str(path), "--wait", "--no-worker"], env,
                                        cwd=work)
    finally:
        worker.terminate()
        worker.wait(30)
    report = json.loads(Path(out.strip().splitlines()[-1]).read_text())
    lines = sum(1 for _ in (Path(report["output_dir"]) / RESULTS_JSONL).open())
    figures = asyncio.run(_figures(address, report["batch_id"]))
    t = report["totals"]
    print(f"prompt: {args.topics} topics (offline model) through `runner submit --wait` and "
          f"`runner worker`, concurrency {args.concurrency}")
    print(f"  {t['succeeded']}/{t['topics']} succeeded, wall {wall:.1f} s ({report['wall_s']:.1f} s "
          f"in the batch), {t['topics'] / report['wall_s']:.1f} topics/s; {lines} lines in {RESULTS_JSONL}")
    print(f"  parent: {figures.runs} runs, max {figures.max_events} events/run, largest payload "
          f"{figures.largest_payload / 1024:.1f} KB; peak RSS: worker {worker_rss.stop():.0f} MB, "
          f"submit --wait {submit_rss:.0f} MB")


async def _figures(address: str, batch_id: str):  # type: ignore[no-untyped-def]
    client = await Client.connect(address, data_converter=pydantic_data_converter)
    return await history_figures(client, batch_id)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--topics", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=200)
    parser.add_argument("--parts", default=",".join(PARTS), help="which parts, comma-separated")
    parser.add_argument("--side", choices=("bare", "runner"), help=argparse.SUPPRESS)
    parser.add_argument("--address", help=argparse.SUPPRESS)
    parser.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.side == "bare":
        print(json.dumps(asyncio.run(bare_side(args.address, args.topics, args.concurrency))))
        return
    if args.side == "runner":
        print(json.dumps(asyncio.run(runner_side(args.address, args.topics, args.concurrency, args.work))))
        return
    parts = [p for p in args.parts.split(",") if p]
    if unknown := set(parts) - set(PARTS):
        parser.error(f"unknown part(s): {', '.join(sorted(unknown))}")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        home = work / "home"
        # owned: started from the main thread, the server dies with this process, also on kill -9
        info, _ = server.start(home, port=_free_port(), owned=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith("TEMPORAL_")}
        env.update(RUNNER_HOME=str(home), TEMPORAL_CONFIG_FILE=str(home / "none.toml"))
        try:
            if "validate" in parts:
                part_validate(args, work, env)
            if "shape" in parts:
                part_shape(args, work, info.address, info.pid)
            if "prompt" in parts:
                part_prompt(args, work, env, info.address)
        finally:
            server.stop(home)


if __name__ == "__main__":
    main()
