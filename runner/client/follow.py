"""Follow a running batch to its report: progress lines, a worker in this process when none is
there, a summary at the end."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from temporalio.client import Client, WorkflowFailureError, WorkflowHandle
from temporalio.exceptions import is_cancelled_exception

from runner.client.connect import Target
from runner.client.pollers import has_pollers
from runner.contract.errors import BatchFailed, RunnerError, failure_message
from runner.contract.names import PROGRESS_QUERY, child_id
from runner.contract.types import BatchProgress, BatchResult, TopicProgress
from runner.store.files import REPORT_JSON, load_report

Echo = Callable[[str], None]
# A worker this process runs for the duration of a batch: it serves until the event is set. The
# client cannot build one (that would load every job's activities); the command line hands it in.
LocalWorker = Callable[[asyncio.Event], Coroutine[Any, Any, None]]
POLL_EVERY_S = 1.0
QUIET_PROGRESS_EVERY_S = 15.0
NO_WORKER_WARNING_S = 30.0


async def follow(
    client: Client, target: Target, handle: WorkflowHandle[Any, BatchResult], output_dir: str, *,
    task_queue: str, worker: bool | None, echo: Echo, local_worker: LocalWorker | None = None,
) -> BatchResult:
    """Follow a running batch to its end, showing progress, with a worker in this process if needed
    (``worker``: True always, False never, None when the embedded server is used and no
    `runner worker` polls the task queue, or, later, when no worker answers for NO_WORKER_WARNING_S).
    ``local_worker`` is that worker (without it, none is run here).

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
        result = await _follow(client, handle.id, output_dir, echo, tasks, on_silence)
    finally:
        stop.set()
        for task in tasks:
            with contextlib.suppress(Exception):
                await task
    _summarise(result, echo)
    if result.failed or result.cancelled:
        bad = ", ".join(f"{n} {what}" for n, what in ((result.failed, "failed"),
                                                      (result.cancelled, "cancelled")) if n)
        failed = BatchFailed(f"{bad} of {result.total} topics")
        failed.shown = True  # the summary above already said so, ending with the report's path
        raise failed
    return result


async def _follow(client: Client, batch_id: str, output_dir: str, echo: Echo,
                  workers: list[asyncio.Task[None]], on_silence: Callable[[], None] | None) -> BatchResult:
    handle = client.get_workflow_handle(batch_id, result_type=BatchResult)
    result_task = asyncio.create_task(handle.result())
    start = time.monotonic()
    last_line, last_time, answered, warned = "", 0.0, start, False
    try:
        while not result_task.done():
            for task in workers:
                if task.done() and task.exception():
                    raise RunnerError(f"the in-process worker stopped: {task.exception()}")
            line = await _progress_line(client, batch_id)
            now = time.monotonic()
            if line:
                answered = now
            elif now - answered > NO_WORKER_WARNING_S and not warned:
                warned = True
                if on_silence is not None and not workers:
                    on_silence()
                else:
                    echo(f"warning: no worker has answered for {NO_WORKER_WARNING_S:.0f} s; is one "
                         "running? (`runner worker`, or submit with --worker)")
            if line and (line != last_line or now - last_time > QUIET_PROGRESS_EVERY_S):
                echo(f"[{now - start:6.1f}s] {line}")
                last_line, last_time = line, now
            await asyncio.wait({result_task}, timeout=POLL_EVERY_S)
        result: BatchResult = result_task.result()
        return result
    except WorkflowFailureError as exc:
        if exc.cause is not None and is_cancelled_exception(exc.cause):
            echo(f"batch {batch_id} was cancelled")
            return result_from_report(batch_id, output_dir)
        raise RunnerError(f"batch {batch_id} failed: {failure_message(exc)}") from exc
    finally:
        result_task.cancel()


async def _progress_line(client: Client, batch_id: str) -> str | None:
    try:
        progress = await client.get_workflow_handle(batch_id).query(
            PROGRESS_QUERY, result_type=BatchProgress)
    except Exception:  # no worker has answered yet; the next poll will tell
        return None
    done = progress.succeeded + progress.failed
    parts = [f"{done + progress.cancelled}/{progress.total} done"]
    if progress.failed or progress.cancelled:
        parts[0] += " (" + ", ".join(f"{n} {what}" for n, what in (
            (progress.failed, "failed"), (progress.cancelled, "cancelled")) if n) + ")"
    steps = []
    for topic_id in progress.running[:6]:
        try:
            tp = await client.get_workflow_handle(child_id(batch_id, topic_id)).query(
                PROGRESS_QUERY, result_type=TopicProgress)
            steps.append(f"{topic_id} {tp.step or ('finishing' if tp.steps_done else 'starting')} "
                         f"({tp.steps_done}/{tp.steps_total})")
        except Exception:
            steps.append(f"{topic_id} starting")
    if len(progress.running) > 6:
        steps.append(f"+{len(progress.running) - 6} more")
    if steps:
        parts.append("running: " + ", ".join(steps))
    if progress.finished or (done + progress.cancelled == progress.total and not progress.running):
        parts.append("writing report")
    return " | ".join(parts)


def result_from_report(batch_id: str, output_dir: str) -> BatchResult:
    """A batch's result from its report (a cancelled batch returns none)."""
    path = Path(output_dir) / REPORT_JSON
    report = load_report(output_dir)
    if report is None:
        raise RunnerError(f"batch {batch_id} ended without a readable report at {path}")
    t = report["totals"]
    return BatchResult(batch_id=batch_id, report_json=str(path), report_md=str(path.with_suffix(".md")),
                       total=t["topics"], succeeded=t["succeeded"], failed=t["failed"],
                       cancelled=t.get("cancelled", 0), wall_s=report["wall_s"])


def _summarise(result: BatchResult, echo: Echo) -> None:
    # written by a worker on another machine: counts only
    report = load_report(Path(result.report_json).parent) or {"topics": []}
    for topic in report["topics"]:
        if topic["status"] == "succeeded":
            echo(f"  ok      {topic['id']}: {topic.get('output') or ''}")
        elif topic["status"] == "cancelled":
            echo(f"  CANCELLED {topic['id']}: at {topic.get('failed_step') or 'not started'}")
        else:
            echo(f"  FAILED  {topic['id']}: at {topic.get('failed_step') or '?'}: "
                 f"{(topic.get('error') or '').splitlines()[0] if topic.get('error') else ''}")
    failed = f", {result.failed} FAILED" if result.failed else ""
    failed += f", {result.cancelled} CANCELLED" if result.cancelled else ""
    echo(f"{result.succeeded}/{result.total} topics succeeded{failed} in {result.wall_s:.1f} s; "
         f"report: {result.report_md}")
    echo(result.report_json)
