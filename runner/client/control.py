"""Batch control from the command line: status, cancel, retry, list.

A batch is named by its id (``runner list`` shows them) or by its manifest file. Status comes from
the workflows' own queries, so it is right mid-run and after a restart; Temporal's record of each
topic's pending activity adds the attempt count.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowHandle
from temporalio.service import RPCError, RPCStatusCode

from runner.client.follow import Echo, ago
from runner.client.identity import topic_file
from runner.contract.budget import budget_text
from runner.contract.errors import RunnerError, UsageError, first_line
from runner.contract.keys import spec_key
from runner.contract.names import (
    BATCH_WORKFLOW,
    PROGRESS_QUERY,
    RESULT_FILE,
    TOPICS_QUERY,
    child_id,
    result_path,
    topic_dir,
)
from runner.contract.types import BatchInput, BatchProgress, PlannedTopic, TopicProgress
from runner.store.artifacts import join, name, store_for
from runner.store.files import REPORT_MD, RESULTS_JSONL, iter_results, load_report, load_result
from runner.store.topics import iter_topics

QUERY_TIMEOUT = timedelta(seconds=5)
STATUS_NAMES = {
    WorkflowExecutionStatus.RUNNING: "running",
    WorkflowExecutionStatus.COMPLETED: "completed",
    WorkflowExecutionStatus.FAILED: "failed",
    WorkflowExecutionStatus.CANCELED: "cancelled",
    WorkflowExecutionStatus.TERMINATED: "terminated",
    WorkflowExecutionStatus.CONTINUED_AS_NEW: "continued",
    WorkflowExecutionStatus.TIMED_OUT: "timed out",
}


def state_name(status: WorkflowExecutionStatus | None) -> str:
    """How runner names a workflow's state."""
    return STATUS_NAMES.get(status, str(status)) if status is not None else "unknown"


@contextlib.contextmanager
def missing_as_usage_error(message: str) -> Iterator[None]:
    """Temporal's NOT_FOUND (no such workflow or schedule) as a UsageError saying ``message``."""
    try:
        yield
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            raise UsageError(message) from exc
        raise


async def _describe(client: Client, batch_id: str) -> tuple[WorkflowHandle[Any, Any], Any]:
    handle = client.get_workflow_handle(batch_id)
    with missing_as_usage_error(
            f"no batch {batch_id!r} on this Temporal server (see `runner list`; the runs of a "
            f"schedule are named {batch_id}-<time>: `runner schedule describe` lists them)"):
        return handle, await handle.describe()


async def run_input(client: Client, batch_id: str, run_id: str | None = None) -> BatchInput:
    """The input a run of the batch was started with (from the first event of its history)."""
    handle = client.get_workflow_handle(batch_id, run_id=run_id)
    async for event in handle.fetch_history_events():
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
            payloads = event.workflow_execution_started_event_attributes.input.payloads
            try:
                [inp] = await client.data_converter.decode(payloads, [BatchInput])
            except Exception as exc:  # pydantic's ValidationError, wrapped or not
                raise UsageError(f"batch {batch_id} was started by an earlier version of runner (its "
                                 "input has no topic file); submit its manifest again instead") from exc
            assert isinstance(inp, BatchInput)
            return inp
    raise RunnerError(f"batch {batch_id}: its history has no start event")


async def status(client: Client, batch_id: str, echo: Echo, *, topics: bool = False,
                 failed: bool = False) -> str:
    """Print the batch's state and counts; with ``topics`` one line per topic (running ones with
    their step, attempt, model and time in it), with ``failed`` the failed and cancelled ones.
    A running batch answers through its workflow (a worker must run); an ended one from its
    report. Returns the batch's state name."""
    handle, desc = await _describe(client, batch_id)
    state = state_name(desc.status)
    memo = await desc.memo()
    output_dir = str(memo.get("output_dir", ""))
    ended = f", ended {desc.close_time:%Y-%m-%d %H:%M:%S}" if desc.close_time else ""
    echo(f"batch {batch_id} (run {desc.run_id}): {state}; started {desc.start_time:%Y-%m-%d %H:%M:%S} "
         f"UTC{ended}; output {output_dir or '?'}")
    if desc.status != WorkflowExecutionStatus.RUNNING:
        _ended_status(output_dir, echo, topics=topics, failed=failed)
        return state
    try:
        progress = await handle.query(TOPICS_QUERY if topics else PROGRESS_QUERY,
                                      result_type=BatchProgress, rpc_timeout=QUERY_TIMEOUT)
    except (TimeoutError, RPCError) as exc:
        echo(f"  (no worker answered the status query: {getattr(exc, 'message', exc)}; start `runner "
             "worker` to see its progress)")
        return state
    echo("  " + counts_line(progress))
    if progress.provider_batches:
        now = datetime.now(UTC)
        windows: list[tuple[str, ...]] = [("PROVIDER BATCH", "MODEL", "REQUESTS", "STATE", "AGE")]
        windows += [(w.provider_batch, w.model, str(w.requests),
                  w.state + (" (resubmitted)" if w.resubmitted else ""),
                  f"{(now - datetime.fromisoformat(w.submitted_at)).total_seconds():.0f}s")
                    for w in progress.provider_batches]
        table(windows, echo)
    if topics:
        rows: list[tuple[str, ...]] = [("TOPIC", "STATE", "STEP", "ATTEMPT", "MODEL", "ELAPSED")]
        for topic_id in progress.running:
            rows.append(await _topic_row(client, child_id(batch_id, topic_id), topic_id))
        table(rows, echo)
    if failed:
        _failed_so_far(output_dir, progress.started_at, echo)
    if not (topics or failed) and progress.running:
        more = progress.running_count - len(progress.running)
        echo(f"  running: {', '.join(progress.running)}" + (f" (+{more} more)" if more > 0 else "")
             + "; --topics shows each one's step, --failed the failures so far")
    return state


def counts_line(p: BatchProgress) -> str:
    """A batch's counts in one line."""
    pending = p.total - p.succeeded - p.failed - p.cancelled - p.budget_exhausted - p.running_count
    return (f"{p.succeeded} succeeded, {p.failed} failed, {p.cancelled} cancelled, "
            + (f"{p.budget_exhausted} out of budget, " if p.budget_exhausted else "")
            + f"{p.running_count} running, {pending} pending, of {p.total}"
            + (f" ({p.carried} carried from an earlier run)" if p.carried else "")
            + (f"; parent run {p.runs}" if p.runs > 1 else "")
            + ("; cancelling" if p.cancelling else "")
            + (f"; budget: {p.budget.describe()}" if p.budget else ""))


def table(rows: list[tuple[str, ...]], echo: Echo, *, indent: str = "  ") -> None:
    """Print ``rows`` (the first is the header) in aligned columns."""
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        echo(indent + "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())


def _ended_status(output_dir: str, echo: Echo, *, topics: bool, failed: bool) -> None:
    """An ended batch, from its report (no worker needed)."""
    report = load_report(output_dir) if output_dir else None
    if report is None:
        echo(f"  (no readable report in {output_dir or 'its output directory'}: it ended before "
             "writing one, or it was written on another machine)")
        return
    t = report["totals"]
    echo(f"  {t['succeeded']} succeeded, {t['failed']} failed, {t.get('cancelled', 0)} cancelled, "
         + (f"{t['budget_exhausted']} out of budget, " if t.get("budget_exhausted") else "")
         + f"of {t['topics']}; wall {report['wall_s']:.1f} s; report {join(output_dir, REPORT_MD)}")
    if report.get("budget"):
        echo(f"  budget: {budget_text(report['budget'])}")
    if not (topics or failed):
        return
    if not store_for(output_dir).is_file(join(output_dir, RESULTS_JSONL)):
        echo(f"  (no {RESULTS_JSONL}: written by an earlier version of runner; see "
             f"{join(output_dir, REPORT_MD)})")
        return
    rows: list[tuple[str, ...]] = [("TOPIC", "STATE", "STEP", "OUTPUT / ERROR")]
    for r in iter_results(output_dir):
        if topics or r["status"] != "succeeded":
            note = r.get("output") or "" if r["status"] == "succeeded" else first_line(r.get("error"))
            rows.append((r["id"], r["status"] + (" (carried)" if r.get("carried") else ""),
                         r.get("failed_step") or "", note))
    table(rows, echo)


def _failed_so_far(output_dir: str, since: str | None, echo: Echo) -> None:
    """The failed topics of a running batch, from the result files written since it started."""
    start = datetime.fromisoformat(since).timestamp() if since else 0.0
    rows: list[tuple[str, ...]] = [("TOPIC", "STATE", "STEP", "ERROR")]
    folder = join(output_dir, "topics")
    for found in store_for(folder).files(folder):
        rel = found.path[len(folder) + 1:]
        if rel.count("/") != 1 or name(rel) != RESULT_FILE or found.mtime < start:
            continue  # not a topic's result file, or an earlier run's
        result = load_result(found.path)
        if result is not None and result.status != "succeeded":
            rows.append((result.id, result.status, result.failed_step or "", first_line(result.error)))
    if len(rows) == 1:
        echo("  no failed topics so far")
    else:
        table(rows, echo)


async def _topic_row(client: Client, workflow_id: str, topic_id: str) -> tuple[str, ...]:
    handle = client.get_workflow_handle(workflow_id)
    try:
        p = await handle.query(PROGRESS_QUERY, result_type=TopicProgress, rpc_timeout=QUERY_TIMEOUT)
    except (TimeoutError, RPCError):
        return (topic_id, "running", "?", "", "", "")
    attempt = ""
    try:
        pending = (await handle.describe()).raw_description.pending_activities
        if pending:
            attempt = str(max(a.attempt for a in pending))
    except RPCError:
        pass
    step = p.step or "starting"
    if p.reused:
        step += f" (reused: {', '.join(p.reused)})"
    return (topic_id, f"running {p.steps_done}/{p.steps_total}", step, attempt, p.model or "",
            ago(p.step_started_at or p.started_at))


async def cancel(client: Client, batch_id: str, echo: Echo, *, wait_s: float) -> None:
    """Cancel the running batch; wait up to ``wait_s`` for it to stop and write its report."""
    handle, desc = await _describe(client, batch_id)
    if desc.status != WorkflowExecutionStatus.RUNNING:
        raise UsageError(f"batch {batch_id} is not running (it is {state_name(desc.status)})")
    await handle.cancel()
    echo(f"cancellation of batch {batch_id} requested; its running steps are being stopped")
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        desc = await handle.describe()
        if desc.status != WorkflowExecutionStatus.RUNNING:
            memo = await desc.memo()
            echo(f"batch {batch_id} is {state_name(desc.status)}; report: "
                 f"{join(str(memo.get('output_dir', '.')), REPORT_MD)}")
            return
        await asyncio.sleep(0.5)
    echo(f"batch {batch_id} has not stopped within {wait_s:.0f} s (is a worker running?); it will "
         "stop when a worker picks the cancellation up")


@dataclass
class RetryPlan:
    inp: BatchInput
    rerun: int
    resumed: int
    first: list[str]  # the first topics to run again


async def plan_retry(client: Client, batch_id: str) -> RetryPlan:
    """A new run of the batch with only its topics that did not succeed; their earlier result files
    are handed over so that finished steps are reused. Writes the new run's topic file.

    Raises:
        UsageError: the batch is still running, its topic file is gone, or every topic succeeded.
    """
    _, desc = await _describe(client, batch_id)
    if desc.status == WorkflowExecutionStatus.RUNNING:
        raise UsageError(f"batch {batch_id} is still running: wait for it, or `runner cancel` it first")
    last = await run_input(client, batch_id, desc.run_id)
    if not store_for(last.topics_file).is_file(last.topics_file):
        raise UsageError(f"batch {batch_id}: its topic file {last.topics_file} is gone; submit the "
                         "manifest again instead")
    rerun, resumed, first = 0, 0, list[str]()

    def planned() -> Iterator[PlannedTopic]:
        nonlocal rerun, resumed
        for _, topic in iter_topics(last.topics_file):
            spec = topic.spec
            path = result_path(topic_dir(last.output_dir, spec.id))
            result = load_result(path)  # carried ones too: their file may be gone or overwritten
            same = result is not None and result.spec_key == spec_key(spec)
            if same and result is not None and result.status == "succeeded":
                yield PlannedTopic(spec=spec, carried=True)
                continue
            rerun += 1
            resumed += same
            if len(first) < 10:
                first.append(spec.id)
            yield PlannedTopic(spec=spec, resume_from=path if same else None)

    file = await asyncio.to_thread(topic_file, last.output_dir, planned())
    if not rerun:
        raise UsageError(f"nothing to retry: every topic of batch {batch_id} succeeded")
    inp = last.model_copy(update={"topics_file": file.path, "total": file.total,
                                  "carried": file.carried, "state": None})
    return RetryPlan(inp=inp, rerun=rerun, resumed=resumed, first=first)


async def list_batches(client: Client, echo: Echo, *, limit: int) -> int:
    """Print the most recent batch runs, newest first; returns how many."""
    rows: list[tuple[str, ...]] = [("BATCH", "STATE", "STARTED (UTC)", "ENDED", "TOPICS", "RUN", "OUTPUT")]
    async for wf in client.list_workflows(f'WorkflowType = "{BATCH_WORKFLOW}"', limit=limit):
        memo = await wf.memo()
        rows.append((wf.id, state_name(wf.status),
                     f"{wf.start_time:%Y-%m-%d %H:%M:%S}",
                     f"{wf.close_time:%H:%M:%S}" if wf.close_time else "",
                     str(memo.get("topics", "?")), str(memo.get("run", "")), str(memo.get("output_dir", ""))))
    if len(rows) == 1:
        echo("no batches yet (runner submit MANIFEST starts one)")
        return 0
    table(rows, echo, indent="")
    return len(rows) - 1

