"""Who polls a task queue: whether a worker is there to run a batch, and how many share a model."""

from __future__ import annotations

import os
import socket
from datetime import UTC, datetime, timedelta

from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client

# A live idle worker re-polls at least every minute or so; a poll older than this means no worker.
POLLER_FRESH = timedelta(seconds=75)
# Workers that `runner submit --wait` runs in its own process for the duration. They end with the
# command, so their recent polls do not mean that a worker will be there for the next batch.
TRANSIENT_PREFIX = "runner-submit-"


def transient_identity() -> str:
    """Identity of an in-process worker of `runner submit --wait`."""
    return f"{TRANSIENT_PREFIX}{os.getpid()}@{socket.gethostname()}"


async def poller_identities(client: Client, task_queue: str, kind: TaskQueueType.ValueType,
                            *, include_transient: bool = True) -> set[str]:
    """The workers (by identity) that polled ``task_queue`` for ``kind`` tasks recently."""
    resp = await client.workflow_service.describe_task_queue(
        DescribeTaskQueueRequest(namespace=client.namespace, task_queue=TaskQueue(name=task_queue),
                                 task_queue_type=kind)
    )
    now = datetime.now(UTC)
    return {p.identity for p in resp.pollers
            if now - p.last_access_time.ToDatetime(tzinfo=UTC) < POLLER_FRESH
            and (include_transient or not p.identity.startswith(TRANSIENT_PREFIX))}


async def count_pollers(client: Client, task_queue: str, kind: TaskQueueType.ValueType,
                        *, include_transient: bool = True) -> int:
    """How many workers polled ``task_queue`` for ``kind`` tasks recently."""
    return len(await poller_identities(client, task_queue, kind, include_transient=include_transient))


async def has_pollers(client: Client, task_queue: str) -> bool:
    """Whether a long-lived worker (not another command's in-process one) polled ``task_queue``
    for workflow tasks recently."""
    return await count_pollers(client, task_queue, TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
                               include_transient=False) > 0
