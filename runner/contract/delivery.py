"""Batch delivery: LLM calls sent through a provider's batch API (half price, answers within hours)
instead of one request each. Sandbox-safe.

A topic's call of a batch-delivered step is handed to the batch's parent workflow (the ``enqueue``
activity writes the request to the batch's folder and signals the parent), which gathers the calls
of all its topics per model into windows, submits each window once as one provider batch, polls it
with durable timers, and has each answer sent to its topic by signal (matched by ``custom_id``).
"""

from __future__ import annotations

import hashlib
from typing import Literal

from pydantic import BaseModel, Field

ENQUEUE_ACTIVITY = "runner.llm.enqueue"
SUBMIT_ACTIVITY = "runner.llm.batch-submit"
POLL_ACTIVITY = "runner.llm.batch-poll"
COLLECT_ACTIVITY = "runner.llm.batch-collect"
CANCEL_ACTIVITY = "runner.llm.batch-cancel"
CALL_SIGNAL = "batch_call"  # an activity to the parent: a call to gather
ANSWER_SIGNAL = "batch_answer"  # an activity to a topic: its call's answer
# (the topic files sit in the batch's folder; requests and windows beside them)
DELIVERY_DIR = ".provider-batches"


class Delivery(BaseModel):
    """How a batch's LLM steps are delivered (``delivery:`` in the manifest)."""

    steps: list[str] = Field(default_factory=list, description="steps whose calls go in provider "
                             "batches (the others are realtime)")
    gather_s: float = Field(default=60.0, description="a window of calls is submitted this long after "
                            "its first call came")
    max_requests: int = Field(default=10_000, description="... or once it holds this many calls")
    poll_s: float = Field(default=30.0, description="a submitted batch is looked at this often")


def custom_id(workflow_id: str, step: str, model: str, attempt: int) -> str:
    """A call's id in provider batches (at most 64 of ``[a-zA-Z0-9_-]``): the same for a replay."""
    return hashlib.sha256(f"{workflow_id}\n{step}\n{model}\n{attempt}".encode()).hexdigest()[:40]


class Gathered(BaseModel):
    """A call waiting in the parent for its window (signal ``batch_call``); its request, and whom
    to answer, are in its request file."""

    custom_id: str
    model: str


class WindowInput(BaseModel):
    """Input of the submit activity: a window of one model's calls."""

    window: str = Field(description="its id within the batch")
    model: str
    folder: str
    custom_ids: list[str]
    resubmit: int = Field(default=0, description="1: the calls of an expired window, submitted again")


class Window(BaseModel):
    """A provider batch in flight, as the parent keeps it."""

    window: str
    model: str
    provider_batch: str
    manifest: str = Field(description="the window's file: its calls, and the provider batch ids")
    requests: int
    submitted_at: str
    state: str = "in_progress"
    resubmitted: int = 0


class DeliveryState(BaseModel):
    """What the parent keeps of batch delivery (handed on when it continues as new): the calls
    waiting for a window (at most one per running topic) and the windows in flight."""

    pending: dict[str, list[str]] = Field(default_factory=dict, description="model -> custom ids")
    since: dict[str, str] = Field(default_factory=dict, description="model -> when its first pending "
                                  "call came (ISO)")
    windows: list[Window] = Field(default_factory=list)
    next_window: int = 1


class Polled(BaseModel):
    state: Literal["in_progress", "ended", "canceling"]
    counts: dict[str, int] = Field(default_factory=dict)


class Collected(BaseModel):
    """Output of the collect activity: what became of the window's calls (each answer, or error,
    is sent to its topic; expired ones are left for the parent to resubmit)."""

    succeeded: int = 0
    errored: int = 0
    expired: list[str] = Field(default_factory=list, description="custom ids of expired calls")
