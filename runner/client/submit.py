"""Start a batch from a validated plan and, if asked, follow it to its report."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import secrets
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from temporalio.client import Client, WorkflowFailureError, WorkflowHandle
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.exceptions import WorkflowAlreadyStartedError, is_cancelled_exception

from runner.client.connect import Target
from runner.config.catalog import Catalog
from runner.config.jobkinds import job_kinds
from runner.config.manifest import BatchPlan
from runner.contract.errors import BatchFailed, RunnerError, UsageError
from runner.contract.types import BatchInput, BatchProgress, BatchResult, TopicProgress
from runner.worker.assembly import build_worker, has_pollers, run_until, transient_identity
from runner.workflow.batch import BATCH_WORKFLOW, child_id
from runner.workflow.steps import failure_message

Echo = Callable[[str], None]
POLL_EVERY_S = 1.0
QUIET_PROGRESS_EVERY_S = 15.0
NO_WORKER_WARNING_S = 30.0


def batch_id_for(plan: BatchPlan) -> str:
    """A manifest's batch id: its name and a short hash of its output directory. Stable, so that
    submitting a manifest whose batch runs attaches to it (two batches must not write the same
    directory), and each submit after the last one ended starts a new run of the same id."""
    return f"{plan.name}-{hashlib.sha256(plan.output_dir.encode()).hexdigest()[:6]}"


def batch_input(plan: BatchPlan, batch_id: str, task_queue: str) -> BatchInput:
    """The parent workflow's input for ``plan``."""
    kind = job_kinds()[plan.job]
    return BatchInput(
        batch_id=batch_id, name=plan.name, job=plan.job, child_workflow=kind.workflow_name,
        task_queue=task_queue, output_dir=plan.output_dir, concurrency=plan.concurrency,
        manifest=plan.manifest, topics=plan.topics,
    )


def memo_of(inp: BatchInput) -> dict[str, Any]:
    """What `runner list` shows of a batch without asking a worker."""
    return {"manifest": inp.manifest, "output_dir": inp.output_dir, "job": inp.job,
            "topics": len(inp.topics) + len(inp.carried), "run": "retry" if inp.carried or
            inp.resume_from else "submit"}


async def submit(
    client: Client, target: Target, plan: BatchPlan, *, task_queue: str, catalog: Catalog,
    wait: bool, worker: bool | None, echo: Echo, new: bool = False,
) -> BatchResult | None:
    """Start the manifest's batch, or attach to it if it is running (``new``: terminate the running
    one and start afresh); with ``wait``, follow it and return its result.

    Raises:
        BatchFailed: (with ``wait``) some topic failed or was cancelled; the report is written.
    """
    if target.embedded:  # the workers are local: catch an unwritable output_dir before starting
        check_writable(Path(plan.output_dir))
    inp = batch_input(plan, batch_id_for(plan), task_queue)
    try:
        handle = await start_batch(client, inp)
        echo(f"started batch {inp.batch_id}: {len(plan.topics)} topics, job {plan.job}, "
             f"output {plan.output_dir}")
    except WorkflowAlreadyStartedError:
        if new:
            handle = await start_batch(client, inp, replace=True)
            echo(f"terminated the running batch {inp.batch_id} and started it afresh: "
                 f"{len(plan.topics)} topics, output {plan.output_dir}")
        else:
            handle = client.get_workflow_handle(inp.batch_id, result_type=BatchResult)
            desc = await handle.describe()
            echo(f"batch {inp.batch_id} is already running (since {desc.start_time:%Y-%m-%d %H:%M:%S} "
                 "UTC): attached to it, nothing new was started (--new starts it afresh)")
    echo(f"temporal: {target.describe()}")
    if not wait:
        echo(inp.batch_id)
        return None
    return await follow(client, target, handle, plan.output_dir, task_queue=task_queue,
                        catalog=catalog, worker=worker, echo=echo)


async def start_batch(client: Client, inp: BatchInput, *,
                      replace: bool = False) -> WorkflowHandle[Any, BatchResult]:
    """Start a run of the batch workflow for ``inp``.

    Raises:
        WorkflowAlreadyStartedError: a run of this batch is running (unless ``replace``: then it is
            terminated).
    """
    return await client.start_workflow(
        BATCH_WORKFLOW, inp, id=inp.batch_id, task_queue=inp.task_queue, result_type=BatchResult,
        memo=memo_of(inp),
        id_conflict_policy=WorkflowIDConflictPolicy.TERMINATE_EXISTING if replace
        else WorkflowIDConflictPolicy.FAIL)


async def follow(
    client: Client, target: Target, handle: WorkflowHandle[Any, BatchResult], output_dir: str, *,
    task_queue: str, catalog: Catalog, worker: bool | None, echo: Echo,
) -> BatchResult:
    """Follow a running batch to its end, showing progress, with a worker in this process if needed
    (``worker``: True always, False never, None when the embedded server is used and no
    `runner worker` polls the task queue, or, later, when no worker answers for NO_WORKER_WARNING_S).

    Raises:
        BatchFailed: some topic failed or was cancelled; the report is written all the same.
    """
    polled = await has_pollers(client, task_queue)
    auto = worker is None
    if worker is None:
        worker = target.embedded and not polled
    if not worker and not polled:
        echo(f"warning: no worker polls task queue {task_queue!r}; start one with `runner worker`")
    stop = asyncio.Event()
    tasks: list[asyncio.Task[None]] = []

    def start_worker(reason: str) -> None:
        echo(f"running a worker in this process ({reason}; task queue {task_queue!r})")
        tasks.append(asyncio.create_task(
            run_until(build_worker(client, task_queue=task_queue, catalog=catalog,
                                   identity=transient_identity()), stop)))

    if worker:
        start_worker("none was polling" if target.embedded and not polled else "asked to")
    # On the embedded server, a worker that polled recently may have gone since: if nothing answers,
    # serve the batch here rather than wait forever (unless told --no-worker).
    on_silence = None
    if auto and target.embedded and not tasks:
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


def check_writable(directory: Path) -> None:
    """Raise UsageError unless ``directory`` can be created and written."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
        probe = directory / f".runner-write-check-{secrets.token_hex(4)}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise UsageError(f"output_dir {directory}: not writable ({exc.strerror or exc}); nothing was "
                         "started") from exc


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
            "progress", result_type=BatchProgress)
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
                "progress", result_type=TopicProgress)
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
    path = Path(output_dir) / "report.json"
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise RunnerError(f"batch {batch_id} ended without a readable report at {path}") from exc
    t = report["totals"]
    return BatchResult(batch_id=batch_id, report_json=str(path), report_md=str(path.with_suffix(".md")),
                       total=t["topics"], succeeded=t["succeeded"], failed=t["failed"],
                       cancelled=t.get("cancelled", 0), wall_s=report["wall_s"])


def _summarise(result: BatchResult, echo: Echo) -> None:
    try:
        report = json.loads(Path(result.report_json).read_text(encoding="utf-8"))
    except (OSError, ValueError):  # written by a worker on another machine: counts only
        report = {"topics": []}
    for topic in report["topics"]:
        if topic["status"] == "succeeded":
            out = topic.get("outputs", {})
            echo(f"  ok      {topic['id']}: {out.get('video') or out.get('output') or ''}")
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
