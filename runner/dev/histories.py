"""What a workflow costs Temporal: runs, history events per run, the largest payload. For the
benchmarks and the tests that hold the batch workflow to Temporal's limits (51,200 events and
50 MB per run; payloads: warned above 256 KB, refused above 2 MB)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from google.protobuf.message import Message
from temporalio.api.common.v1 import Payload
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.service import RPCError, RPCStatusCode


@dataclass
class HistoryFigures:
    runs: int
    max_events: int  # the most events of any run
    largest_payload: int  # bytes of the largest payload in any run's history


def _payloads(message: Message) -> Iterator[Payload]:
    for field, value in message.ListFields():
        if field.message_type is None:
            continue
        items: Any = [value] if isinstance(value, Message) else (
            list(value.values()) if hasattr(value, "values") else list(value))  # a map, a list
        for item in items:
            if isinstance(item, Payload):
                yield item
            elif isinstance(item, Message):
                yield from _payloads(item)


async def history_figures(client: Client, workflow_id: str) -> HistoryFigures:
    """Every run of ``workflow_id`` (it continues as new), newest to oldest."""
    runs = max_events = largest = 0
    run_id: str | None = None
    while True:
        handle = client.get_workflow_handle(workflow_id, run_id=run_id)
        events = 0
        previous = ""
        async for event in handle.fetch_history_events():
            events += 1
            for payload in _payloads(event):
                largest = max(largest, len(payload.data))
            attrs = event.workflow_execution_started_event_attributes
            if event.HasField("workflow_execution_started_event_attributes"):
                previous = attrs.continued_execution_run_id
        runs += 1
        max_events = max(max_events, events)
        if not previous:
            return HistoryFigures(runs, max_events, largest)
        run_id = previous


async def all_ended(client: Client, workflow_ids: list[str]) -> bool:
    """Whether none of these workflows is running (or was ever started)."""
    for workflow_id in workflow_ids:
        try:
            desc = await client.get_workflow_handle(workflow_id).describe()
        except RPCError as exc:
            if exc.status == RPCStatusCode.NOT_FOUND:
                continue
            raise
        if desc.status == WorkflowExecutionStatus.RUNNING:
            return False
    return True
