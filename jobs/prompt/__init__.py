"""The prompt job kind: plain batch inference, one prompt template over many topics."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from jobs.prompt.types import PromptOptions
from jobs.prompt.workflow import JSON_FORMAT, TEXT_FORMAT, PromptWorkflow
from runner.contract.jobkind import JobKind


def _activities() -> Sequence[Callable[..., Any]]:
    from jobs.prompt.activities import PromptActivities

    return PromptActivities().activities()  # type: ignore[return-value]


def _offline(system: str, user: str) -> str | None:
    """Deterministic answers for the offline model (and the simulator)."""
    if f"FORMAT: {JSON_FORMAT}" in system:
        return json.dumps({"offline": True, "prompt": user[:500]})
    if f"FORMAT: {TEXT_FORMAT}" in system:
        return f"Offline answer to: {user[:500]}"
    return None


JOB = JobKind(
    name="prompt",
    summary="plain batch inference: a prompt template over many topics, one answer file each",
    workflow=PromptWorkflow,
    activities=_activities,
    options=PromptOptions,
    offline_responders=(_offline,),
)
