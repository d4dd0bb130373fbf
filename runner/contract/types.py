"""The contract between the engine, job kinds, workflows and activities.

Everything that crosses Temporal is one of these pydantic models (serialised by
``pydantic_data_converter``). Only small values travel: artifacts travel as paths, never bytes.
This module is imported inside the workflow sandbox: keep it free of I/O and heavy imports.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

TopicStatus = Literal["succeeded", "failed", "cancelled"]
StepStatusName = Literal["running", "succeeded", "failed", "cancelled"]


class StepOutput(BaseModel):
    """Base of step activity outputs; ``attempt`` is filled in by the step-activity decorator
    (:func:`runner.activity.step.step_activity`), so the report can say how many attempts a step
    took."""

    attempt: int = 0


class RetrySpec(BaseModel):
    """A step's retry policy (Temporal's), in seconds."""

    maximum_attempts: int = 5
    initial_interval_s: float = 2.0
    backoff_coefficient: float = 2.0
    maximum_interval_s: float = 60.0


class StepPolicy(BaseModel):
    """How one step runs: its activity's start-to-close timeout, heartbeat timeout (steps that
    heartbeat) and retry policy. For an LLM step it applies to each model of the chain."""

    timeout_s: float
    heartbeat_s: float | None = None
    retry: RetrySpec = Field(default_factory=RetrySpec)


class TopicSpec(BaseModel):
    """One topic of a batch, with every default already applied."""

    id: str
    topic: str
    models: dict[str, list[str]] = Field(description="model chain per LLM step (resolved)")
    params: dict[str, Any] = Field(default_factory=dict, description="job-specific options")
    steps: dict[str, StepPolicy] = Field(default_factory=dict, description="policy per step "
                                         "(resolved; a step not named runs with the job's default)")


class BatchInput(BaseModel):
    """Input of the parent :class:`runner.workflow.batch.BatchWorkflow`."""

    batch_id: str
    name: str
    job: str
    child_workflow: str
    task_queue: str
    output_dir: str
    concurrency: int
    manifest: str
    topics: list[TopicSpec]
    carried: list[TopicOutcome] = Field(default_factory=list, description="topics that succeeded in "
                                        "an earlier run of this batch (runner retry): in the report, "
                                        "not run again")
    resume_from: dict[str, str] = Field(default_factory=dict, description="topic id -> its earlier "
                                        "result file, whose finished steps are reused")


class TopicInput(BaseModel):
    """Input of a job kind's per-topic child workflow."""

    batch_id: str
    spec: TopicSpec
    topic_dir: str = Field(description="where this topic's artifacts and result.json go")
    output_dir: str = Field(description="the batch's output directory (final deliverables go here)")
    task_queue: str
    models_out: list[str] = Field(default_factory=list, description="models out of quota earlier in "
                                  "this batch: not called")
    resume_from: str | None = Field(default=None, description="result file of an earlier run of this "
                                    "topic whose finished steps are reused (runner retry)")


class Checkpoint(BaseModel):
    """A finished step's output, kept in the topic's result file so that a later run of the topic
    (``runner retry``) reuses it instead of running the step again. ``key`` hashes the step's input:
    a checkpoint is reused only for the same input."""

    key: str
    output: dict[str, Any]
    model: str | None = None


class Checkpoints(BaseModel):
    checkpoints: dict[str, Checkpoint] = Field(default_factory=dict)


class StepRecord(BaseModel):
    """One pipeline step as it ran: what the report shows per step."""

    name: str
    status: StepStatusName
    started_at: str
    duration_s: float | None = None
    attempts: int | None = Field(default=None, description="attempts of the activity that settled it")
    model: str | None = Field(default=None, description="catalog name of the model that answered")
    models_tried: list[ModelAttempt] = Field(default_factory=list)
    error: str | None = None
    reused: bool = Field(default=False, description="taken from an earlier run's checkpoint, not run")
    detail: dict[str, Any] = Field(default_factory=dict)


class ModelAttempt(BaseModel):
    """One model's share of an LLM step: how many attempts it got and how it ended."""

    model: str
    attempts: int | None
    outcome: Literal["answered", "failed", "skipped"]
    error: str | None = None


class TopicResult(BaseModel):
    """Everything about one topic; written by the child to ``<topic_dir>/result.json``."""

    id: str
    topic: str
    status: TopicStatus
    error: str | None = None
    failed_step: str | None = None
    steps: list[StepRecord] = Field(default_factory=list)
    outputs: dict[str, Any] = Field(default_factory=dict, description="job-specific: paths, checks")
    spec_key: str = Field(default="", description="hash of the topic's spec: which input this is for")
    checkpoints: dict[str, Checkpoint] = Field(default_factory=dict)


class ResultWrite(BaseModel):
    """Input of the activity that writes a topic's result file."""

    path: str
    result: TopicResult


class TopicOutcome(BaseModel):
    """What the parent keeps per topic (small: the details live in the result file)."""

    id: str
    status: TopicStatus
    error: str | None = None
    result_path: str | None = None


class TopicProgress(BaseModel):
    """Answer of a child's ``progress`` query."""

    id: str
    step: str | None
    steps_done: int
    steps_total: int
    started_at: str | None = None
    step_started_at: str | None = None
    model: str | None = Field(default=None, description="model called (or that answered) in this step")
    reused: list[str] = Field(default_factory=list, description="steps taken from checkpoints")


class BatchProgress(BaseModel):
    """Answer of the parent's ``progress`` query."""

    batch_id: str
    total: int
    succeeded: int
    failed: int
    running: list[str]
    finished: bool
    cancelled: int = 0
    carried: int = Field(default=0, description="topics that succeeded in an earlier run (retry)")
    topics: dict[str, str] = Field(default_factory=dict, description="topic id -> pending, running, "
                                   "succeeded, failed or cancelled (only with the `topics` query)")


class ReportInput(BaseModel):
    """Input of the report activity."""

    batch_id: str
    name: str
    job: str
    manifest: str
    output_dir: str
    started_at: str
    finished_at: str
    outcomes: list[TopicOutcome]
    topics: dict[str, str] = Field(description="topic id -> topic text")
    run_id: str = ""
    cancelled: bool = Field(default=False, description="the batch was cancelled")
    models_out: list[str] = Field(default_factory=list, description="models whose quota ran out")


class ReportOutput(BaseModel):
    report_json: str
    report_md: str
    total: int
    succeeded: int
    failed: int
    cancelled: int = 0


class BatchResult(BaseModel):
    """Result of the parent workflow."""

    batch_id: str
    report_json: str
    report_md: str
    total: int
    succeeded: int
    failed: int
    wall_s: float
    cancelled: int = 0


StepRecord.model_rebuild()
BatchInput.model_rebuild()
