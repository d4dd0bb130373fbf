"""Worker assembly: one worker runs the batch workflow and every registered job kind."""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client
from temporalio.worker import Worker

from runner.batch import BatchWorkflow
from runner.catalog import Catalog
from runner.llm.activity import LLMActivities
from runner.registry import JobKind, all_responders, job_kinds
from runner.report import EngineActivities

# A live idle worker re-polls at least every minute or so; a poll older than this means no worker.
POLLER_FRESH = timedelta(seconds=75)
# Workers that `runner submit --wait` runs in its own process for the duration. They end with the
# command, so their recent polls do not mean that a worker will be there for the next batch.
TRANSIENT_PREFIX = "runner-submit-"


def transient_identity() -> str:
    """Identity of an in-process worker of `runner submit --wait`."""
    return f"{TRANSIENT_PREFIX}{os.getpid()}@{socket.gethostname()}"


def build_worker(client: Client, *, task_queue: str, catalog: Catalog,
                 kinds: Iterable[JobKind] | None = None, identity: str | None = None) -> Worker:
    """A worker for the batch workflow, the given job kinds (default: all) and the LLM gateway."""
    kinds = list(kinds if kinds is not None else job_kinds().values())
    activities: list[object] = [*EngineActivities().activities(),
                                *LLMActivities(catalog, all_responders()).activities()]
    for kind in kinds:
        activities.extend(kind.activities())
    return Worker(
        client,
        task_queue=task_queue,
        workflows=[BatchWorkflow, *(k.workflow for k in kinds)],
        activities=activities,  # type: ignore[arg-type]
        disable_eager_activity_execution=True,
        graceful_shutdown_timeout=timedelta(seconds=10),
        identity=identity,
    )


async def has_pollers(client: Client, task_queue: str) -> bool:
    """Whether a long-lived worker (not another command's in-process one) polled ``task_queue``
    for workflow tasks recently."""
    resp = await client.workflow_service.describe_task_queue(
        DescribeTaskQueueRequest(
            namespace=client.namespace, task_queue=TaskQueue(name=task_queue),
            task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
        )
    )
    now = datetime.now(UTC)
    return any(now - p.last_access_time.ToDatetime(tzinfo=UTC) < POLLER_FRESH
               and not p.identity.startswith(TRANSIENT_PREFIX) for p in resp.pollers)


async def run_until(worker: Worker, stop: asyncio.Event) -> None:
    """Run ``worker`` until ``stop`` is set, then shut it down gracefully."""
    async with worker:
        await stop.wait()
