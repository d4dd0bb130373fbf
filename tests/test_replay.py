"""The determinism guard: histories recorded from real batches (tests/histories, made by
``make histories``) replay against the current workflow code. A change that would break workflows
already running (a step added, removed or reordered, a different activity or timer) fails here."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from runner.config.jobkinds import job_kinds
from runner.workflow.batch import BatchWorkflow

HISTORIES = sorted((Path(__file__).parent / "histories").glob("*.json"))


def test_there_are_recorded_histories_of_every_kind() -> None:
    names = {p.stem for p in HISTORIES}
    assert {"explainer-batch", "prompt-batch", "cancelled-batch", "cancelled-topic", "retried-batch",
            "retried-topic", "window-batch"} <= names


@pytest.mark.parametrize("path", HISTORIES, ids=lambda p: p.stem)
async def test_recorded_history_replays_on_the_current_code(path: Path) -> None:
    recorded = json.loads(path.read_text())
    history = WorkflowHistory.from_json(recorded["workflow_id"], recorded["history"])
    replayer = Replayer(workflows=[BatchWorkflow, *(k.workflow for k in job_kinds().values())],
                        data_converter=pydantic_data_converter)
    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    assert result.replay_failure is None, f"{path.name}: {result.replay_failure}"
