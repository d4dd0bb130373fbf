"""Follow a running batch to its report: progress lines, a worker in this process when none is
there, a summary at the end."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

from temporalio.client import Client, WorkflowFailureError, WorkflowHandle
from temporalio.exceptions import is_cancelled_exception

from runner.client.ci import ci_outputs
from runner.client.connect import Target
from runner.client.pollers import has_pollers
from runner.contract.budget import budget_text
from runner.contract.errors import BatchFailed, RunnerError, failure_message
from runner.contract.names import PROGRESS_QUERY, child_id
from runner.contract.types import BatchProgress, BatchResult, TopicProgress
from runner.store.artifacts import join, parent
from runner.store.files import REPORT_HTML, REPORT_JSON, REPORT_MD, iter_results, load_report

Echo = Callable[[str], None]
# A worker this process runs for the duration of a batch: it serves until the event is set. The
# client cannot build one (that would load every job's activities); the command line hands it in.
LocalWorker = Callable[[asyncio.Event], Coroutine[Any, Any, None]]
POLL_EVERY_S = 1.0
PLAIN_EVERY_S = 10.0  # a progress line this often when not on a terminal
RATE_WINDOW_S = 30.0  # topics/s is measured over this much time
SLOWEST = 3  # longest-running topics shown with their step
QUERY_TIMEOUT = timedelta(seconds=5)
NO_WORKER_WARNING_S = 30.0
LIST_ALL_UP_TO = 20  # the summary lists every topic up to this many, else only failures
LIST_FAILURES = 20


async def follow(
    client: Client, target: Target, handle: WorkflowHandle[Any, BatchResult], output_dir: str, *,
    task_queue: str, worker: bool | None, echo: Echo, local_worker: LocalWorker | None = None,
    live: bool = False, junit: Path | None = None,
) -> BatchResult:
    """Follow a running batch to its end, showing progress, with a worker in this process if needed
    (``worker``: True always, False never, None when the embedded server is used and no
    `runner worker` polls the task queue, or, later, when no worker answers for NO_WORKER_WARNING_S).
    ``local_worker`` is that worker (without it, none is run here). ``live``: show a progress bar
    (a terminal), else plain lines. At the end, the CI outputs (``junit``, the GitHub step
    summary: :mod:`runner.client.ci`).

    Raises:
        BatchFailed: some topic failed or was cancelled; the report is written all the same.
    """
    polled = await has_pollers(client, task_queue)
    auto = worker is None
    if local_worker is None:
        worker = False
    elif worker is None:
        worker = target.embedded and not polled
    if not worker and not polled:
        echo(f"warning: no worker polls task queue {task_queue!r}; start one with `runner worker`")
    stop = asyncio.Event()
    tasks: list[asyncio.Task[None]] = []

    def start_worker(reason: str) -> None:
        assert local_worker is not None
        echo(f"running a worker in this process ({reason}; task queue {task_queue!r})")
        tasks.append(asyncio.create_task(local_worker(stop)))

    if worker:
        start_worker("none was polling" if target.embedded and not polled else "asked to")
    # On the embedded server, a worker that polled recently may have gone since: if nothing answers,
    # serve the batch here rather than wait forever (unless told --no-worker).
    on_silence = None
    if auto and target.embedded and not tasks and local_worker is not None:
        on_silence = lambda: start_worker("no worker answered")  # noqa: E731
    try:
        result = await _follow(client, handle.id, output_dir, ProgressView(echo, live), tasks, on_silence)
    finally:
        stop.set()
        for task in tasks:
            with contextlib.suppress(Exception):
                await task
    _summarise(result, echo, web_ui(target, handle.id))
    ci_outputs(result.report_json, junit, echo)
    if result.failed or result.cancelled or result.budget_exhausted:
        bad = ", ".join(f"{n} {what}" for n, what in ((result.failed, "failed"),
                                                      (result.cancelled, "cancelled"),
                                                      (result.budget_exhausted, "out of budget")) if n)
        failed = BatchFailed(f"{bad} of {result.total} topics")
        failed.shown = True  # the summary above already said so, ending with the report's path
        raise failed
    return result


async def _follow(client: Client, batch_id: str, output_dir: str, view: ProgressView,
                  workers: list[asyncio.Task[None]], on_silence: Callable[[], None] | None) -> BatchResult:
    handle = client.get_workflow_handle(batch_id, result_type=BatchResult)
    result_task = asyncio.create_task(handle.result())
    answered, warned = time.monotonic(), False
    try:
        while not result_task.done():
            for task in workers:
                if task.done() and task.exception():
                    raise RunnerError(f"the in-process worker stopped: {task.exception()}")
            progress = await _query_progress(client, batch_id)
            now = time.monotonic()
            if progress is not None:
                answered = now
                view.show(progress, await _slowest(client, batch_id, progress.running[:SLOWEST]))
            elif now - answered > NO_WORKER_WARNING_S and not warned:
                warned = True
                if on_silence is not None and not workers:
                    on_silence()
                else:
                    view.echo(f"warning: no worker has answered for {NO_WORKER_WARNING_S:.0f} s; is "
                              "one running? (`runner worker`, or submit with --worker)")
            await asyncio.wait({result_task}, timeout=POLL_EVERY_S)
        result: BatchResult = result_task.result()
        view.show(BatchProgress(batch_id=batch_id, total=result.total, succeeded=result.succeeded,
                                failed=result.failed, cancelled=result.cancelled, running=[],
                                budget_exhausted=result.budget_exhausted, finished=True), [])
        return result
    except WorkflowFailureError as exc:
        if exc.cause is not None and is_cancelled_exception(exc.cause):
            view.echo(f"batch {batch_id} was cancelled")
            return result_from_report(batch_id, output_dir)
        raise RunnerError(f"batch {batch_id} failed: {failure_message(exc)}") from exc
    finally:
        result_task.cancel()
        view.close()


async def _query_progress(client: Client, batch_id: str) -> BatchProgress | None:
    try:
        progress: BatchProgress = await client.get_workflow_handle(batch_id).query(
            PROGRESS_QUERY, result_type=BatchProgress, rpc_timeout=QUERY_TIMEOUT)
    except Exception:  # no worker has answered yet; the next poll will tell
        return None
    return progress


async def _slowest(client: Client, batch_id: str, topic_ids: list[str]) -> list[str]:
    """What the longest-running topics are doing: ``id step (n/m) for 12s``."""
    shown = []
    for topic_id in topic_ids:
        try:
            tp = await client.get_workflow_handle(child_id(batch_id, topic_id)).query(
                PROGRESS_QUERY, result_type=TopicProgress, rpc_timeout=QUERY_TIMEOUT)
        except Exception:
            shown.append(f"{topic_id} starting")
            continue
        step = tp.step or ("finishing" if tp.steps_done else "starting")
        since = tp.step_started_at or tp.started_at
        took = f" {ago(since)}" if since else ""
        shown.append(f"{topic_id} {step} ({tp.steps_done}/{tp.steps_total}){took}")
    return shown


def ago(when: datetime | str | None) -> str:
    """How long since ``when`` (an ISO time or a datetime): ``42s``, ``3.5m``; empty if unknown."""
    if when is None:
        return ""
    start = datetime.fromisoformat(when) if isinstance(when, str) else when
    seconds = max(0.0, (datetime.now(UTC) - start).total_seconds())
    return f"{seconds:.0f}s" if seconds < 120 else f"{seconds / 60:.1f}m"


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f}s"
    if seconds < 7200:
        return f"{seconds // 60:.0f}m{seconds % 60:02.0f}s"
    return f"{seconds // 3600:.0f}h{seconds % 3600 // 60:02.0f}m"


class ProgressView:
    """How a followed batch's progress is shown: a live bar on a terminal (``live``), else a plain
    line every PLAIN_EVERY_S (CI logs) and when the batch starts its report."""

    def __init__(self, echo: Echo, live: bool) -> None:
        self._echo = echo
        self.start = time.monotonic()
        self.samples: deque[tuple[float, int]] = deque()  # (time, topics ended) for the rate
        self.last_plain = -PLAIN_EVERY_S
        self.last_line = ""
        self.live: Any = None
        if live:
            from rich.console import Console
            from rich.live import Live

            self.live = Live(console=Console(), refresh_per_second=4, transient=False)
            self.live.start()

    def echo(self, line: str) -> None:
        if self.live is not None:
            self.live.console.print(line, markup=False, highlight=False)
        else:
            self._echo(line)

    def rate(self, ended: int, now: float) -> float | None:
        """Topics ended per second over the last RATE_WINDOW_S."""
        self.samples.append((now, ended))
        while len(self.samples) > 2 and now - self.samples[0][0] > RATE_WINDOW_S:
            self.samples.popleft()
        (t0, n0), (t1, n1) = self.samples[0], self.samples[-1]
        return (n1 - n0) / (t1 - t0) if t1 - t0 >= 2 else None

    def show(self, p: BatchProgress, slowest: list[str]) -> None:
        now = time.monotonic()
        ended = p.succeeded + p.failed + p.cancelled + p.budget_exhausted
        rate = self.rate(ended - p.carried, now)
        left = p.total - ended
        eta = _duration(left / rate) if rate and left else ("-" if left else "0s")
        counts = (f"{ended}/{p.total} done ({p.succeeded} ok, {p.failed} failed"
                  + (f", {p.cancelled} cancelled" if p.cancelled else "")
                  + (f", {p.budget_exhausted} out of budget" if p.budget_exhausted else "")
                  + f"), {p.running_count} running"
                  + (f", ${p.budget.spent_usd:.4f} spent" + (f" of ${p.budget.cap.usd:g}"
                                                             if p.budget.cap.usd is not None else "")
                     if p.budget else ""))
        speed = f"{rate:.1f} topics/s, ETA {eta}" if rate is not None else "measuring rate"
        state = ("done" if p.finished else "writing report" if not left and not p.running_count
                 else "cancelling" if p.cancelling else "")
        if self.live is not None:
            self.live.update(_bar(p.total, ended, counts, speed, state, slowest, now - self.start))
            return
        line = " | ".join(x for x in (counts, speed, state,
                                      "slowest: " + ", ".join(slowest) if slowest else "") if x)
        if now - self.last_plain >= PLAIN_EVERY_S or (state and state not in self.last_line):
            self._echo(f"[{now - self.start:6.1f}s] {line}")
            self.last_plain, self.last_line = now, line

    def close(self) -> None:
        if self.live is not None:
            self.live.stop()
            self.live = None


def _bar(total: int, ended: int, counts: str, speed: str, state: str, slowest: list[str],
         elapsed: float) -> Any:
    from rich.console import Group
    from rich.progress_bar import ProgressBar
    from rich.table import Table
    from rich.text import Text

    grid = Table.grid(padding=(0, 1))
    grid.add_row(ProgressBar(total=max(total, 1), completed=ended, width=30),
                 Text(f"{counts} | {speed} | {_duration(elapsed)}" + (f" | {state}" if state else "")))
    lines = [Text(f"  slowest: {s}", style="dim") for s in slowest]
    return Group(grid, *lines)


def result_from_report(batch_id: str, output_dir: str) -> BatchResult:
    """A batch's result from its report (a cancelled batch returns none)."""
    path = join(output_dir, REPORT_JSON)
    report = load_report(output_dir)
    if report is None:
        raise RunnerError(f"batch {batch_id} ended without a readable report at {path}")
    t = report["totals"]
    return BatchResult(batch_id=batch_id, report_json=path, report_md=join(output_dir, REPORT_MD),
                       total=t["topics"], succeeded=t["succeeded"], failed=t["failed"],
                       cancelled=t.get("cancelled", 0), budget_exhausted=t.get("budget_exhausted", 0),
                       wall_s=report["wall_s"])


def web_ui(target: Target, batch_id: str) -> str | None:
    """The Temporal Web UI's page of the batch's workflow, on the embedded server (None elsewhere:
    a configured Temporal's UI is wherever its operators put it)."""
    if not target.embedded:
        return None
    from runner.client import server
    from runner.config.home import runner_home

    info = server.status(runner_home())
    if info is None:
        return None
    return f"{info.ui_url}/namespaces/{quote(target.namespace, safe='')}/workflows/{quote(batch_id, safe='')}"


def _summarise(result: BatchResult, echo: Echo, ui: str | None = None) -> None:
    # written by a worker on another machine: counts only
    report = load_report(parent(result.report_json)) or {}
    shown = 0
    if result.total <= LIST_ALL_UP_TO:
        for topic in iter_results(parent(result.report_json)):
            if topic["status"] == "succeeded":
                echo(f"  ok      {topic['id']}: {topic.get('output') or ''}")
    for topic in report.get("failures", [])[:LIST_FAILURES]:
        shown += 1
        if topic["status"] == "cancelled":
            echo(f"  CANCELLED {topic['id']}: at {topic.get('failed_step') or 'not started'}")
        elif topic["status"] == "budget_exhausted":
            echo(f"  OUT OF BUDGET {topic['id']}: at {topic.get('failed_step') or 'not started'}")
        else:
            echo(f"  FAILED  {topic['id']}: at {topic.get('failed_step') or '?'}: {topic.get('error') or ''}")
    unfinished = result.failed + result.cancelled + result.budget_exhausted
    if unfinished > shown:
        echo(f"  ... {unfinished - shown} more failed, cancelled or out of budget: "
             f"`runner status --failed {result.batch_id}` or {result.report_md}")
    failed = f", {result.failed} FAILED" if result.failed else ""
    failed += f", {result.cancelled} CANCELLED" if result.cancelled else ""
    failed += f", {result.budget_exhausted} OUT OF BUDGET" if result.budget_exhausted else ""
    if budget := report.get("budget"):
        echo(f"  budget: {budget_text(budget)}")
    echo(f"{result.succeeded}/{result.total} topics succeeded{failed} in {result.wall_s:.1f} s; "
         f"report: {result.report_md}")
    echo(f"  to look at: {join(parent(result.report_json), REPORT_HTML)}")
    if ui:
        echo(f"  in Temporal's Web UI: {ui}")
    echo(result.report_json)
