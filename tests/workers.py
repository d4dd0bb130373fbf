"""Workers for tests that swap some activities for fakes: the same task queues as the real workers."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from temporalio.client import Client
from temporalio.worker import Worker

from runner.activity.engine import EngineActivities
from runner.config.catalog import Catalog, ModelSpec
from runner.worker.assembly import WorkerSet, model_workers, steps_worker


def workers_with(client: Client, task_queue: str, *, workflows: Sequence[type], activities: Sequence[object],
                 llm: Callable[..., object], models: Catalog | Sequence[str]) -> WorkerSet:
    """A workflow worker (``workflows`` and the engine's activities), a steps worker (``activities``)
    and one worker per model running ``llm``; ``models`` is a catalog or just model names (served
    without limits)."""
    catalog = models if isinstance(models, Catalog) else Catalog(
        models={name: ModelSpec(provider="offline") for name in models})
    main = Worker(client, task_queue=task_queue, workflows=list(workflows),
                  activities=EngineActivities().activities(),  # type: ignore[arg-type]
                  disable_eager_activity_execution=True)
    return WorkerSet(client, [main, steps_worker(client, task_queue, activities),
                              *model_workers(client, task_queue=task_queue, catalog=catalog,
                                             activity=llm)])
