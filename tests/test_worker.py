"""Which workers count as polling: only long-lived ones (`runner worker`), not the in-process worker
of another `runner submit --wait`, which ends with its command."""

from __future__ import annotations

import asyncio

from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client

from runner.client.pollers import has_pollers, transient_identity
from runner.config.catalog import BUILTIN
from runner.worker.assembly import build_worker


async def until_polled(client: Client, task_queue: str, identity: str) -> None:
    """Wait until the server has seen a poll from ``identity``."""
    for _ in range(100):
        resp = await client.workflow_service.describe_task_queue(DescribeTaskQueueRequest(
            namespace=client.namespace, task_queue=TaskQueue(name=task_queue),
            task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW))
        if any(p.identity == identity for p in resp.pollers):
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"{identity} never polled")


async def test_only_long_lived_workers_count_as_polling(client: Client, task_queue: str) -> None:
    assert not await has_pollers(client, task_queue)
    transient = transient_identity()
    async with build_worker(client, task_queue=task_queue, catalog=BUILTIN, identity=transient):
        await until_polled(client, task_queue, transient)
        assert not await has_pollers(client, task_queue)
    async with build_worker(client, task_queue=task_queue, catalog=BUILTIN, identity="ops-worker-1"):
        await until_polled(client, task_queue, "ops-worker-1")
        assert await has_pollers(client, task_queue)
