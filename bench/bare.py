"""Benchmark side: the fan-out of runner's batch, written by hand on bare Temporal.

What a competent engineer would write with the Temporal Python SDK after Temporal's own pattern for
large fan-outs (samples-python ``batch_sliding_window``): a parent reads its work items (N generated
topic ids) in pages through an activity, keeps at most ``concurrency`` children running, started with
ParentClosePolicy.ABANDON, learns of their completion by signal (a child cannot be awaited across
continue-as-new), and continues as new once its history passes ``events_per_run`` events, carrying its
cursor, the ids in flight and its count. Each child runs five no-op activities, then signals the parent.
PeakRss is for the runner side to measure itself the same way (and runner.dev.histories measures
both sides' histories).

Usage: python bench/bare.py [--topics 1000] [--concurrency 200] [--events-per-run 10000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, NoReturn

from temporalio import activity, workflow
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Worker

with workflow.unsafe.imports_passed_through():
    from runner.client import server
    from runner.client.server import _free_port
    from runner.dev.histories import history_figures

STEPS = 5
DONE_SIGNAL = "bare.done"
STEP_TIMEOUT = timedelta(seconds=30)


@dataclass
class PageRequest:
    start: int
    size: int
    total: int


@dataclass
class BatchInput:
    topics: int
    concurrency: int
    page_size: int
    events_per_run: int
    cursor: int = 0  # index of the next topic to start
    in_flight: list[str] = field(default_factory=list)  # started, completion not yet signalled
    done: int = 0
    runs: int = 1


@activity.defn(name="bare.read_page")
async def read_page(req: PageRequest) -> list[str]:
    """The topic ids of one page (generated: the stand-in for a data source)."""
    return [f"t{i}" for i in range(req.start, min(req.start + req.size, req.total))]


@activity.defn(name="bare.step")
async def step(data: dict[str, str]) -> dict[str, str]:
    return data


@workflow.defn(name="bare.topic")
class BareTopic:
    @workflow.run
    async def run(self, topic: str) -> None:
        data = {"topic": topic}
        for n in range(1, STEPS + 1):
            data = await workflow.execute_activity(step, {**data, "step": str(n)},
                                                   start_to_close_timeout=STEP_TIMEOUT)
        parent = workflow.info().parent
        if parent is not None:  # by workflow id only: the run that started us may have continued
            await workflow.get_external_workflow_handle(parent.workflow_id).signal(DONE_SIGNAL, topic)


@workflow.defn(name="bare.batch")
class BareBatch:
    @workflow.init
    def __init__(self, inp: BatchInput) -> None:
        self.in_flight = set(inp.in_flight)
        self.done = inp.done
        self.starts: list[asyncio.Task[Any]] = []

    @workflow.signal(name=DONE_SIGNAL)
    def child_done(self, topic: str) -> None:
        if topic in self.in_flight:  # a signal may come twice (retried); count it once
            self.in_flight.discard(topic)
            self.done += 1

    @workflow.run
    async def run(self, inp: BatchInput) -> dict[str, int]:
        def long() -> bool:
            return workflow.info().get_current_history_length() > inp.events_per_run

        cursor = inp.cursor
        while cursor < inp.topics:
            if long():
                await self._continue(inp, cursor)
            page = await workflow.execute_activity(read_page, PageRequest(cursor, inp.page_size, inp.topics),
                                                   start_to_close_timeout=STEP_TIMEOUT)
            for topic in page:
                await workflow.wait_condition(lambda: len(self.in_flight) < inp.concurrency or long())
                if long():
                    await self._continue(inp, cursor)
                self.in_flight.add(topic)
                # The sample awaits each start: one workflow task per child. Started as tasks, the
                # starts a signal frees room for go out together in one workflow task.
                self.starts.append(asyncio.create_task(workflow.start_child_workflow(
                    BareTopic.run, topic, id=f"{workflow.info().workflow_id}/{topic}",
                    parent_close_policy=workflow.ParentClosePolicy.ABANDON)))
                cursor += 1
        await workflow.wait_condition(lambda: not self.in_flight or long())
        if self.in_flight:
            await self._continue(inp, cursor)
        await asyncio.gather(*self.starts)
        return {"done": self.done, "runs": inp.runs}

    async def _continue(self, inp: BatchInput, cursor: int) -> NoReturn:
        await asyncio.gather(*self.starts)  # every start accepted (or its failure raised) first
        workflow.continue_as_new(BatchInput(
            topics=inp.topics, concurrency=inp.concurrency, page_size=inp.page_size,
            events_per_run=inp.events_per_run, cursor=cursor, in_flight=sorted(self.in_flight),
            done=self.done, runs=inp.runs + 1))


async def run_bare(client: Client, *, topics: int, concurrency: int, task_queue: str,
                   events_per_run: int = 10_000, page_size: int = 500) -> dict[str, float]:
    """Run the bare-Temporal batch of ``topics`` no-op topics to completion, with a worker in this
    process on ``task_queue``; return its figures (see the module docstring of the bench)."""
    if events_per_run < 100:  # a run must have room to make progress before it continues
        raise ValueError(f"events_per_run must be at least 100, not {events_per_run}")
    workflow_id = f"bare-{task_queue}"
    inp = BatchInput(topics=topics, concurrency=concurrency, page_size=page_size,
                     events_per_run=events_per_run)
    async with Worker(client, task_queue=task_queue, workflows=[BareBatch, BareTopic],
                      activities=[read_page, step]):
        start = time.perf_counter()
        result = await client.execute_workflow(BareBatch.run, inp, id=workflow_id, task_queue=task_queue)
        wall = time.perf_counter() - start
    if result["done"] != topics:
        raise RuntimeError(f"bare batch finished {result['done']} of {topics} topics")
    parent = await history_figures(client, workflow_id)
    runs, max_events, largest = parent.runs, parent.max_events, parent.largest_payload
    for i in sorted({0, topics // 2, topics - 1}):  # a sample of the children
        largest = max(largest, (await history_figures(client, f"{workflow_id}/t{i}")).largest_payload)
    return {"topics": topics, "wall_s": wall, "topics_per_s": topics / wall, "runs": runs,
            "max_events_per_run": max_events, "largest_payload_bytes": largest}


class PeakRss:
    """Peak resident memory of process ``pid`` (default: this one), with ``children`` summed with all
    its descendants', sampled from /proc every ``interval`` seconds in a thread between start and stop."""

    def __init__(self, pid: int | None = None, *, children: bool = False, interval: float = 0.2) -> None:
        self.pid, self.children, self.interval = pid or os.getpid(), children, interval
        self.peak_kb = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, name="peak-rss", daemon=True)

    @property
    def peak_mb(self) -> float:
        return self.peak_kb / 1024

    def start(self) -> PeakRss:
        self._thread.start()
        return self

    def stop(self) -> float:
        """Stop sampling; returns the peak in MB."""
        self._stop.set()
        self._thread.join()
        return self.peak_mb

    def _sample(self) -> None:
        while True:
            pids = _family(self.pid) if self.children else {self.pid}
            self.peak_kb = max(self.peak_kb, sum(_rss_kb(pid) for pid in pids))
            if self._stop.wait(self.interval):
                return


def _stat(pid: int | str) -> list[str]:
    """The fields of /proc/<pid>/stat after the command name (state, ppid, ...); [] if it is gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return []


def _family(pid: int) -> set[int]:
    """``pid`` and all its descendants (scanned: /proc/<pid>/task/*/children may be missing)."""
    stats = {int(p.name): _stat(p.name) for p in Path("/proc").iterdir() if p.name.isdigit()}
    parents = {child: int(fields[1]) for child, fields in stats.items() if fields}
    found = {pid}
    while more := {child for child, parent in parents.items() if parent in found} - found:
        found |= more
    return found


def _rss_kb(pid: int) -> int:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0  # gone
    return next((int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")), 0)


def cpu_s(pid: int) -> float:
    """CPU seconds (user + system) that ``pid`` has used so far."""
    fields = _stat(pid)
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK") if fields else 0.0


async def _bench(address: str, args: argparse.Namespace, server_pid: int) -> None:
    client = await Client.connect(address, data_converter=pydantic_data_converter)
    worker_rss, server_rss = PeakRss().start(), PeakRss(server_pid).start()
    cpu = time.process_time(), cpu_s(server_pid)
    fig = await run_bare(client, topics=args.topics, concurrency=args.concurrency, task_queue="bench-bare",
                         events_per_run=args.events_per_run)
    worker_cpu, server_cpu = time.process_time() - cpu[0], cpu_s(server_pid) - cpu[1]
    print(f"bare: {args.topics} topics x {STEPS} no-op steps, concurrency {args.concurrency}: wall "
          f"{fig['wall_s']:.2f} s, {fig['topics_per_s']:.1f} topics/s, {fig['runs']} runs, max "
          f"{fig['max_events_per_run']} events/run, largest payload {fig['largest_payload_bytes']} B; "
          f"worker {worker_cpu:.1f} CPU s, peak RSS {worker_rss.stop():.0f} MB; "
          f"server {server_cpu:.1f} CPU s, peak RSS {server_rss.stop():.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--topics", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=200)
    parser.add_argument("--events-per-run", type=int, default=10_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "bare"
        # owned: started from the main thread, the server dies with this process, also on kill -9
        info, _ = server.start(home, port=_free_port(), pragmas=server.SQLITE_PRAGMAS, owned=True)
        try:
            asyncio.run(_bench(info.address, args, info.pid))
        finally:
            server.stop(home)


if __name__ == "__main__":
    main()
