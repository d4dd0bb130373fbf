"""The names the engine's parts find each other by: workflows, activities, signals, queries, task
queues, workflow ids and artifact paths.

Temporal matches workflows, activities, signals and queries by these strings, also for workflows
already running: renaming one breaks them (the replay test of recorded histories says so).
"""

from __future__ import annotations

from datetime import UTC, datetime

BATCH_WORKFLOW = "runner.batch"
WRITE_REPORT_ACTIVITY = "runner.write_report"
WRITE_RESULT_ACTIVITY = "runner.write_topic_result"
LOAD_CHECKPOINTS_ACTIVITY = "runner.load_checkpoints"
READ_TOPICS_ACTIVITY = "runner.read_topics"  # a page of a batch's topic file
TOPIC_IDS_ACTIVITY = "runner.topic_ids"  # ids of running topics (a continued parent)
TELL_TOPICS_ACTIVITY = "runner.tell_topics"  # signal or cancel running topics
CHECK_TOPICS_ACTIVITY = "runner.check_topics"  # which running topics have ended unheard
LLM_ACTIVITY = "runner.llm.complete"
SPEECH_ACTIVITY = "runner.llm.speak"

# Sent by a topic that found a model's quota exhausted (to its parent), and by the parent to the
# other topics: the model is out for the rest of the batch.
MODEL_OUT_SIGNAL = "model_out"
# Sent by a topic to its parent when it ends (TopicDone).
TOPIC_DONE_SIGNAL = "topic_done"
BUDGET_UPDATE = "budget_ask"  # a model call asks the batch for room in its budget
BUDGET_SPENT_SIGNAL = "budget_spent"  # and says what it cost
PROGRESS_QUERY = "progress"  # a batch's counts, or a topic's current step
TOPICS_QUERY = "topics"  # a batch's progress with every running topic

# The error type of a model whose quota or spend limit ran out.
QUOTA_EXHAUSTED = "QuotaExhausted"

RESULT_FILE = "result.json"


def child_id(batch_id: str, topic_id: str) -> str:
    """The stable workflow id of a topic's child workflow."""
    return f"{batch_id}/{topic_id}"


def topic_dir(output_dir: str, topic_id: str) -> str:
    """Where a topic's artifacts and result file go, under its batch's output directory."""
    return f"{output_dir}/topics/{topic_id}"


def result_path(topic_dir: str) -> str:
    """Where a topic's result file lives."""
    return f"{topic_dir.rstrip('/')}/{RESULT_FILE}"


# A step queue group's name (``steps: {render: {queue: render}}``, ``runner worker --queues steps:render``).
QUEUE_PATTERN = r"^[a-z0-9][a-z0-9-]{0,39}$"


def steps_task_queue(task_queue: str, queue: str | None = None) -> str:
    """The task queue of a job's step activities (render, merge, ...) for workers of ``task_queue``:
    its own, so that step workers can run apart from the workflows and the LLM calls; a step
    whose policy names a ``queue`` runs on a queue of that group's own (e.g. renders on render
    machines)."""
    return f"{task_queue}.steps" + (f".{queue}" if queue else "")


def llm_task_queue(task_queue: str, model: str) -> str:
    """The task queue of ``model``'s calls for workers of ``task_queue``: one per model, so that the
    Temporal server can hold each model's dispatch rate for all workers together."""
    return f"{task_queue}.llm.{model}"


def batch_task_queue(task_queue: str) -> str:
    """The task queue of batch delivery's activities (queue a call, submit, poll, collect a provider
    batch) for workers of ``task_queue``: apart from the models' queues, whose dispatch rates are for
    realtime calls (a provider's batch API has limits of its own)."""
    return f"{task_queue}.llm-batches"


# Placeholders an output_dir may hold, filled from a batch run's start (UTC) time.
OUTPUT_PLACEHOLDERS = ("{date}", "{time}")


def run_stamp(when: datetime) -> str:
    """A run's start as a folder name: ``2026-11-29T030000Z`` (UTC; sorts by time)."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H%M%SZ")


def run_output_dir(output_dir: str, when: datetime) -> str:
    """Where a run that started at ``when`` writes: ``output_dir`` with its ``{date}``
    (``2026-11-29``) and ``{time}`` (``030000Z``) filled in, or, with neither, a folder of its own
    under it (``output_dir/2026-11-29T030000Z``): scheduled runs never overwrite each other."""
    if not has_placeholders(output_dir):
        return f"{output_dir.rstrip('/')}/{run_stamp(when)}"
    return fill_placeholders(output_dir, when)


def fill_placeholders(output_dir: str, when: datetime) -> str:
    """``output_dir`` with ``{date}`` and ``{time}`` filled in from ``when`` (UTC)."""
    utc = when.astimezone(UTC)
    return output_dir.replace("{date}", utc.strftime("%Y-%m-%d")).replace("{time}", utc.strftime("%H%M%SZ"))


def has_placeholders(output_dir: str) -> bool:
    return any(p in output_dir for p in OUTPUT_PLACEHOLDERS)


def fixed_part(output_dir: str) -> str:
    """The deepest directory of ``output_dir`` that no placeholder changes (where a schedule keeps
    the topic file its runs share)."""
    if not has_placeholders(output_dir):
        return output_dir
    head = output_dir[:min(output_dir.find(p) for p in OUTPUT_PLACEHOLDERS if p in output_dir)]
    return head.rsplit("/", 1)[0] or "/"
