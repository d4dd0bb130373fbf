"""The contract between the engine, job kinds, workflows and activities.

Everything that crosses Temporal is one of these pydantic models (serialised by
``pydantic_data_converter``). Only small values travel: artifacts travel as paths, never bytes.
This module is imported inside the workflow sandbox: keep it free of I/O and heavy imports.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import BaseModel, Field

from runner.contract.budget import Budget, BudgetReport, BudgetState
from runner.contract.delivery import Delivery, DeliveryState, Window

TopicStatus = Literal["succeeded", "failed", "cancelled", "budget_exhausted"]
StepStatusName = Literal["running", "succeeded", "failed", "cancelled"]


class StepOutput(BaseModel):
    """Base of step activity outputs; ``attempt`` is filled in by the step-activity decorator
    (:func:`runner.activity.step.step_activity`), so the report can say how many attempts a step
    took."""

    attempt: int = 0
    cache_key: str | None = Field(default=None, description="its key in the step cache (the topic's "
                                  "result write publishes it if the workflow kept the output)")
    cached_from: dict[str, str] | None = Field(default=None, description="taken from the step cache: "
                                               "the batch, topic and step that made it")
    cache_files: dict[str, str] | None = Field(default=None, description="sha256 of each file the "
                                               "output names, as the step left it: the result write "
                                               "keeps the output in the step cache only if they are "
                                               "unchanged")


class CacheUse(BaseModel):
    """How a step activity uses the step cache (set by the step log when the batch has one)."""

    folder: str = Field(description="the step cache's folder")
    job: str = Field(description="the job kind: with ``step``, what names the step's code and tools")
    step: str = Field(description="the step (its name in the kind's ``steps``)")
    roots: dict[str, str] = Field(description="folders the step's paths lie under (``topic``: the "
                                  "topic's, ``output``: the batch's), stored relative to them")
    refresh: bool = Field(default=False, description="run the step even if the cache has its output")


class StepInput(BaseModel):
    """Base of a cacheable step activity's input: ``cache`` is filled in by the step log and is not
    part of what the step's checkpoint is valid for."""

    cache: CacheUse | None = None
    # fields that name where the step writes: they count in its cache key by place, not content
    destinations: ClassVar[tuple[str, ...]] = ()


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
    queue: str | None = Field(default=None, description="a job step's own task queue group: it runs on "
                              "TASK_QUEUE.steps.QUEUE (None: TASK_QUEUE.steps)")


class TopicSpec(BaseModel):
    """One topic of a batch, with every default already applied."""

    id: str
    topic: str
    models: dict[str, list[str]] = Field(description="model chain per LLM step (resolved)")
    params: dict[str, Any] = Field(default_factory=dict, description="job-specific options")
    steps: dict[str, StepPolicy] = Field(default_factory=dict, description="policy per step "
                                         "(resolved; a step not named runs with the job's default)")


class PlannedTopic(BaseModel):
    """One line of a batch's topic file (see :mod:`runner.store.topics`): the topics travel there,
    never in a workflow's input, so no payload grows with the batch."""

    spec: TopicSpec
    carried: bool = Field(default=False, description="succeeded in an earlier run of this batch "
                          "(runner retry): in the report, not run again")
    resume_from: str | None = Field(default=None, description="its earlier result file, whose "
                                    "finished steps are reused")


class BatchState(BaseModel):
    """Where a batch stands; handed from one run of the parent workflow to the next when it
    continues as new. Its size is bounded by the batch's concurrency, not by its topics."""

    started_at: str
    runs: int = 1
    offset: int = Field(default=0, description="byte offset in the topic file of the next line to read")
    index: int = Field(default=0, description="index of that line")
    eof: bool = False
    in_flight: dict[int, int] = Field(default_factory=dict, description="topics running: index -> "
                                      "byte offset of its line")
    started: int = Field(default=0, description="topics started (children) by every run so far")
    carried: int = Field(default=0, description="carried topics read so far")
    succeeded: int = 0
    failed: int = 0
    cancelled: int = 0
    budget_exhausted: int = 0
    models_out: list[str] = Field(default_factory=list)
    budget: BudgetState | None = None
    delivery: DeliveryState | None = None


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
    topics_file: str = Field(description="the batch's topics, one PlannedTopic per line")
    total: int = Field(description="lines of the topic file")
    carried: int = Field(default=0, description="of them carried from an earlier run (runner retry)")
    events_per_run: int = Field(default=6000, description="a run of the parent continues as new "
                                "when its history reaches this many events")
    sweep_every_s: float = Field(default=120.0, description="with no word from any running topic for "
                                 "this long, the parent asks Temporal which have ended unheard")
    state: BatchState | None = Field(default=None, description="set when continued as new")
    cache: str | None = Field(default=None, description="the step cache's folder (None: no cache)")
    refresh: list[str] = Field(default_factory=list, description="topic ids that do not take answers "
                               "from the cache")
    schedule_id: str | None = Field(default=None, description="the schedule that starts this batch's "
                                    "runs (`runner schedule apply`)")
    scheduled_at: str | None = Field(default=None, description="a scheduled run's time (ISO, UTC), "
                                     "once the run has taken its own id and output folder")
    budget: Budget | None = Field(default=None, description="spending caps (None: none)")
    delivery: Delivery | None = Field(default=None, description="steps delivered through provider "
                                      "batches (None: every step realtime)")

    def memo(self, run: str) -> dict[str, Any]:
        """What `runner list` shows of a batch without asking a worker (``run``: how it was
        started: submit, retry)."""
        return {"manifest": self.manifest, "output_dir": self.output_dir, "job": self.job,
                "topics": self.total, "run": run}


class TopicDone(BaseModel):
    """A child's word to its parent that it ended (a continued parent cannot await the children
    an earlier run started)."""

    index: int
    id: str
    status: TopicStatus


class TopicPageRequest(BaseModel):
    """Input of the activity that reads a batch's topic file in pages."""

    path: str
    offset: int
    index: int
    max_items: int = 500
    max_bytes: int = 96_000


class PageItem(BaseModel):
    index: int
    offset: int = Field(description="byte offset of this topic's line")
    spec: TopicSpec
    resume_from: str | None = None


class TopicPage(BaseModel):
    items: list[PageItem] = Field(description="topics to run (carried ones are skipped)")
    offset: int = Field(description="where the next page starts")
    index: int
    carried: int = Field(default=0, description="carried topics skipped")
    eof: bool


class TopicIdsRequest(BaseModel):
    """Input of the activity that reads topic ids at known offsets (a continued parent's running
    topics)."""

    path: str
    offsets: list[int]


class TellTopics(BaseModel):
    """Input of the activity that signals or cancels a batch's running topics (the parent does not,
    so that its history does not grow by two events per running topic)."""

    workflow_ids: list[str]
    cancel: bool = False
    signal: str | None = None
    arg: str | None = None


class ClosedTopics(BaseModel):
    """Running topics whose workflows have ended (found when no word came from them for a while)."""

    closed: dict[str, str] = Field(default_factory=dict, description="workflow id -> how it ended")


class TopicInput(BaseModel):
    """Input of a job kind's per-topic child workflow."""

    batch_id: str
    spec: TopicSpec
    topic_dir: str = Field(description="where this topic's artifacts and result.json go")
    output_dir: str = Field(description="the batch's output directory (final deliverables go here)")
    task_queue: str
    index: int = Field(default=-1, description="its line in the batch's topic file: tells the parent "
                       "with it when it ends (-1: it does not tell)")
    models_out: list[str] = Field(default_factory=list, description="models out of quota earlier in "
                                  "this batch: not called")
    resume_from: str | None = Field(default=None, description="result file of an earlier run of this "
                                    "topic whose finished steps are reused (runner retry)")
    cache: str | None = Field(default=None, description="the step cache's folder (None: no cache)")
    refresh: bool = Field(default=False, description="do not take answers from the cache (still keep "
                          "this topic's in it)")
    job: str = Field(default="", description="the batch's job kind (names the steps' code in cache "
                     "keys)")
    budget: bool = Field(default=False, description="the batch has a budget: each model call asks "
                         "the parent for room first")
    delivery: list[str] = Field(default_factory=list, description="steps whose calls go through "
                                "the batch's provider batches")


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
    outcome: Literal["answered", "cached", "failed", "skipped"]
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
    cache: str | None = Field(default=None, description="the step cache's folder: the answers the "
                              "topic kept are published there")
    refresh: bool = Field(default=False, description="they replace what the cache held")
    job: str = Field(default="", description="the batch's job kind")
    spec: TopicSpec | None = Field(default=None, description="the topic's spec (with a step cache: "
                                   "what its index entry is for)")
    roots: dict[str, str] = Field(default_factory=dict, description="folders the steps' paths lie "
                                  "under (see CacheUse)")


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
    """Answer of the parent's ``progress`` query. Bounded by the concurrency, whatever the size."""

    batch_id: str
    total: int
    succeeded: int
    failed: int
    running: list[str] = Field(description="ids of running topics, longest-running first (the "
                               "`progress` query gives a few, the `topics` query all)")
    finished: bool
    cancelled: int = 0
    carried: int = Field(default=0, description="topics that succeeded in an earlier run (retry)")
    running_count: int = 0
    started: int = Field(default=0, description="topics started so far")
    started_at: str | None = None
    runs: int = Field(default=1, description="runs of the parent so far (it continues as new)")
    cancelling: bool = False
    budget_exhausted: int = 0
    budget: BudgetReport | None = None
    provider_batches: list[Window] = Field(default_factory=list, description="provider batches in "
                                           "flight")


class ReportInput(BaseModel):
    """Input of the report activity: it reads the topic file and the topics' result files."""

    batch_id: str
    name: str
    job: str
    manifest: str
    output_dir: str
    started_at: str
    finished_at: str
    topics_file: str
    started: int = Field(default=-1, description="lines of the topic file that were started or "
                         "carried; the rest never started (a cancelled batch); -1: all")
    run_id: str = ""
    cancelled: bool = Field(default=False, description="the batch was cancelled")
    models_out: list[str] = Field(default_factory=list, description="models whose quota ran out")
    budget: BudgetReport | None = None
    out_of_budget: bool = Field(default=False, description="the batch's budget ran out: topics at "
                                "and after ``started`` never started")
    windows: str = Field(default="", description="the prefix of this run's provider batch windows "
                         "(batch delivery)")


class ReportOutput(BaseModel):
    report_json: str
    report_md: str
    report_html: str = ""
    total: int
    succeeded: int
    failed: int
    cancelled: int = 0
    budget_exhausted: int = 0


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
    budget_exhausted: int = 0


StepRecord.model_rebuild()
