"""Batch control from the command line: status, cancel, retry, list.

A batch is named by its id (``runner list`` shows them) or by its manifest file. Status comes from
the workflows' own queries, so it is right mid-run and after a restart; Temporal's record of each
topic's pending activity adds the attempt count.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowHandle
from temporalio.service import RPCError, RPCStatusCode

from runner.client.follow import Echo
from runner.contract.errors import RunnerError, UsageError
from runner.contract.keys import spec_key
from runner.contract.names import (
    BATCH_WORKFLOW,
    PROGRESS_QUERY,
    TOPICS_QUERY,
    child_id,
    result_path,
    topic_dir,
)
from runner.contract.types import BatchInput, BatchProgress, TopicOutcome, TopicProgress
from runner.store.files import REPORT_MD, load_result

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


async def _describe(client: Client, batch_id: str) -> tuple[WorkflowHandle[Any, Any], Any]:
    handle = client.get_workflow_handle(batch_id)
    try:
        return handle, await handle.describe()
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            raise UsageError(f"no batch {batch_id!r} on this Temporal server (see `runner list`)") from exc
        raise


async def run_input(client: Client, batch_id: str, run_id: str | None = None) -> BatchInput:
    """The input a run of the batch was started with (from the first event of its history)."""
    handle = client.get_workflow_handle(batch_id, run_id=run_id)
    async for event in handle.fetch_history_events():
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
            payloads = event.workflow_execution_started_event_attributes.input.payloads
            [inp] = await client.data_converter.decode(payloads, [BatchInput])
            assert isinstance(inp, BatchInput)
            return inp
    raise RunnerError(f"batch {batch_id}: its history has no start event")


def _ago(when: datetime | str | None) -> str:
    if when is None:
        return ""
    start = datetime.fromisoformat(when) if isinstance(when, str) else when
    seconds = (datetime.now(UTC) - start).total_seconds()
    return f"{seconds:.0f}s" if seconds < 120 else f"{seconds / 60:.1f}m"


async def status(client: Client, batch_id: str, echo: Echo) -> str:
    """Print the batch's state and one line per topic; returns the batch's state name."""
    handle, desc = await _describe(client, batch_id)
    state = state_name(desc.status)
    memo = await desc.memo()
    ended = f", ended {desc.close_time:%Y-%m-%d %H:%M:%S}" if desc.close_time else ""
    echo(f"batch {batch_id} (run {desc.run_id}): {state}; started {desc.start_time:%Y-%m-%d %H:%M:%S} "
         f"UTC{ended}; output {memo.get('output_dir', '?')}")
    try:
        progress = await handle.query(TOPICS_QUERY, result_type=BatchProgress, rpc_timeout=QUERY_TIMEOUT)
    except (TimeoutError, RPCError) as exc:
        echo(f"  (no worker answered the status query: {getattr(exc, 'message', exc)}; start `runner "
             "worker` to see per-topic state)")
        return state
    echo(f"  {progress.succeeded} succeeded, {progress.failed} failed, {progress.cancelled} cancelled, "
         f"{len(progress.running)} running, {sum(1 for s in progress.topics.values() if s == 'pending')} "
         f"pending, of {progress.total}" + (f" ({progress.carried} from an earlier run)"
                                           if progress.carried else ""))
    rows: list[tuple[str, ...]] = [("TOPIC", "STATE", "STEP", "ATTEMPT", "MODEL", "ELAPSED")]
    for topic_id, topic_state in progress.topics.items():
        row: tuple[str, ...] = (topic_id, topic_state, "", "", "", "")
        if topic_state == "running":
            row = await _topic_row(client, child_id(batch_id, topic_id), topic_id)
        rows.append(row)
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        echo("  " + "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())
    return state


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
            _ago(p.step_started_at or p.started_at))


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
                 f"{Path(memo.get('output_dir', '.')) / REPORT_MD}")
            return
        await asyncio.sleep(0.5)
    echo(f"batch {batch_id} has not stopped within {wait_s:.0f} s (is a worker running?); it will "
         "stop when a worker picks the cancellation up")


@dataclass
class RetryPlan:
    inp: BatchInput
    rerun: list[str]
    carried: list[str]


async def plan_retry(client: Client, batch_id: str) -> RetryPlan:
    """A new run of the batch with only its topics that did not succeed; their earlier result files
    are handed over so that finished steps are reused.

    Raises:
        UsageError: the batch is still running, or every topic succeeded.
    """
    _, desc = await _describe(client, batch_id)
    if desc.status == WorkflowExecutionStatus.RUNNING:
        raise UsageError(f"batch {batch_id} is still running: wait for it, or `runner cancel` it first")
    last = await run_input(client, batch_id, desc.run_id)
    carried: list[TopicOutcome] = list(last.carried)
    rerun = []
    resume: dict[str, str] = {}
    for spec in last.topics:
        path = result_path(topic_dir(last.output_dir, spec.id))
        result = load_result(path)
        if result is not None and result.status == "succeeded" and result.spec_key == spec_key(spec):
            carried.append(TopicOutcome(id=spec.id, status="succeeded", result_path=path))
            continue
        rerun.append(spec)
        if result is not None and result.spec_key == spec_key(spec):
            resume[spec.id] = path
    if not rerun:
        raise UsageError(f"nothing to retry: every topic of batch {batch_id} succeeded")
    inp = last.model_copy(update={"topics": rerun, "carried": carried, "resume_from": resume})
    return RetryPlan(inp=inp, rerun=[s.id for s in rerun], carried=[c.id for c in carried])


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
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        echo("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())
    return len(rows) - 1

