"""Workers for tests that swap some activities for fakes: the same task queues as the real workers."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from temporalio.client import Client

from runner.activity.engine import EngineActivities
from runner.config.catalog import Catalog, ModelSpec
from runner.contract.types import BatchInput, PlannedTopic, TopicSpec
from runner.store.files import iter_results
from runner.store.topics import write_topics
from runner.worker.assembly import WorkerSet, model_workers, steps_worker, workflow_worker


def workers_with(client: Client, task_queue: str, *, workflows: Sequence[type], activities: Sequence[object],
                 llm: Callable[..., object], models: Catalog | Sequence[str],
                 speech: Callable[..., object] | None = None) -> WorkerSet:
    """A workflow worker (``workflows`` and the engine's activities), a steps worker (``activities``)
    and one worker per model running ``llm`` (and ``speech``, the explainer's narration); ``models``
    is a catalog or just model names (served without limits)."""
    catalog = models if isinstance(models, Catalog) else Catalog(
        models={name: ModelSpec(provider="offline") for name in models})
    main = workflow_worker(client, task_queue, workflows, EngineActivities().activities())
    return WorkerSet(client, [main, steps_worker(client, task_queue, activities),
                              *model_workers(client, task_queue=task_queue, catalog=catalog,
                                             activity=llm, speech=speech)])


def batch_input(*, output_dir: str | Path, topics: Sequence[TopicSpec], carried: Sequence[TopicSpec] = (),
                resume_from: Mapping[str, str] | None = None, **fields: Any) -> BatchInput:
    """A batch's input as `runner submit` makes it: its topic file written in ``output_dir`` (the
    ``carried`` topics first, as `runner retry` carries topics that succeeded), the rest of the
    input from ``fields``."""
    resume = resume_from or {}
    file = write_topics(output_dir, [*(PlannedTopic(spec=s, carried=True) for s in carried),
                                     *(PlannedTopic(spec=s, resume_from=resume.get(s.id)) for s in topics)])
    return BatchInput(output_dir=str(output_dir), topics_file=file.path, total=file.total,
                      carried=file.carried, **fields)


def results(output_dir: str | Path) -> list[dict[str, Any]]:
    """A batch's results.jsonl: one dict per topic, in the topic file's order."""
    return list(iter_results(output_dir))
