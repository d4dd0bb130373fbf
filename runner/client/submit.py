"""Start a batch from a validated plan: a new run, or attach to the one running."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from temporalio.client import Client, WorkflowHandle
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from runner.client.connect import Target
from runner.client.follow import Echo, LocalWorker, follow
from runner.client.identity import batch_id_for, batch_input
from runner.config.manifest import BatchPlan
from runner.contract.errors import UsageError
from runner.contract.names import BATCH_WORKFLOW, fill_placeholders, has_placeholders
from runner.contract.types import BatchInput, BatchResult
from runner.store.artifacts import is_url, store_for, store_problem


async def submit(
    client: Client, target: Target, plan: BatchPlan, *, task_queue: str, wait: bool,
    worker: bool | None, echo: Echo, new: bool = False, local_worker: LocalWorker | None = None,
    live: bool = False, junit: Path | None = None, refresh: tuple[str, ...] = (),
) -> BatchResult | None:
    """Start the manifest's batch, or attach to it if it is running (``new``: terminate the running
    one and start afresh); with ``wait``, follow it (see :func:`runner.client.follow.follow`) and
    return its result.

    Raises:
        BatchFailed: (with ``wait``) some topic failed or was cancelled; the report is written.
    """
    if has_placeholders(plan.output_dir):  # {date}/{time}: this run's
        plan = plan.model_copy(update={"output_dir": fill_placeholders(plan.output_dir, datetime.now(UTC))})
    if plan.schedule is not None:
        echo("note: this manifest has a `schedule:`; `runner schedule apply` schedules it, submit runs "
             "it once now")
    if target.embedded or is_url(plan.output_dir):  # catch an unwritable output before starting
        check_writable(plan.output_dir)
    if refresh:
        known = {t.id for t in plan.topics}
        if unknown := [r for r in refresh if r not in known]:
            raise UsageError(f"--refresh: no topic {', '.join(map(repr, unknown))} in the manifest")
        if plan.cache is None:
            raise UsageError("--refresh: the step cache is off for this batch (nothing would be reused)")
    inp = batch_input(plan, batch_id_for(plan), task_queue).model_copy(update={"refresh": list(refresh)})
    try:
        handle = await start_batch(client, inp)
        echo(f"started batch {inp.batch_id}: {inp.total} topics, job {plan.job}, "
             f"output {plan.output_dir}, step cache {plan.cache or 'off'}")
    except WorkflowAlreadyStartedError:
        if new:
            handle = await start_batch(client, inp, replace=True)
            echo(f"terminated the running batch {inp.batch_id} and started it afresh: "
                 f"{inp.total} topics, output {plan.output_dir}")
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
                        worker=worker, echo=echo, local_worker=local_worker, live=live, junit=junit)


async def start_batch(client: Client, inp: BatchInput, *, replace: bool = False,
                      run: str = "submit") -> WorkflowHandle[Any, BatchResult]:
    """Start a run of the batch workflow for ``inp`` (``run``: submit or retry, for `runner list`).

    Raises:
        WorkflowAlreadyStartedError: a run of this batch is running (unless ``replace``: then it is
            terminated).
    """
    return await client.start_workflow(
        BATCH_WORKFLOW, inp, id=inp.batch_id, task_queue=inp.task_queue, result_type=BatchResult,
        memo=inp.memo(run),
        id_conflict_policy=WorkflowIDConflictPolicy.TERMINATE_EXISTING if replace
        else WorkflowIDConflictPolicy.FAIL)


def check_writable(output_dir: str) -> None:
    """Raise UsageError unless ``output_dir`` (a folder, made if missing, or a store URL) can be
    written: a probe file is written there and deleted."""
    try:
        store_for(output_dir).check_writable(output_dir)
    except Exception as exc:  # OSError, or the store library's own (no credentials, no endpoint)
        raise UsageError(f"output_dir {output_dir}: not writable ({store_problem(exc)}); nothing was "
                         "started") from exc
