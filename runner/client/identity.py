"""Batch identity: which Temporal workflow a manifest's batch is, and what it is started with."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path

from runner.config.catalog import Catalog
from runner.config.jobkinds import job_kinds
from runner.config.manifest import BatchPlan, load_manifest
from runner.contract.errors import UsageError
from runner.contract.types import BatchInput, PlannedTopic
from runner.store.artifacts import store_problem
from runner.store.topics import TopicFile, write_topics


def batch_id_for(plan: BatchPlan) -> str:
    """A manifest's batch id: its name and a short hash of its output directory. Stable, so that
    submitting a manifest whose batch runs attaches to it (two batches must not write the same
    directory), and each submit after the last one ended starts a new run of the same id."""
    return f"{plan.name}-{hashlib.sha256(plan.output_dir.encode()).hexdigest()[:6]}"


def resolve_batch_id(ref: str, catalog: Catalog) -> str:
    """A batch id from ``ref``: a manifest file (its batch), else the id itself."""
    path = Path(ref)
    if path.suffix in (".yaml", ".yml") or path.is_file():
        return batch_id_for(load_manifest(path, catalog))
    return ref


def batch_input(plan: BatchPlan, batch_id: str, task_queue: str, *,
                topics_dir: str | None = None) -> BatchInput:
    """The parent workflow's input for ``plan``; writes the batch's topic file (in its output
    directory, or ``topics_dir``, where the workers read it).

    Raises:
        UsageError: the topic file cannot be written (nothing is started).
    """
    kind = job_kinds()[plan.job]
    file = topic_file(topics_dir or plan.output_dir, (PlannedTopic(spec=spec) for spec in plan.topics))
    return BatchInput(
        batch_id=batch_id, name=plan.name, job=plan.job, child_workflow=kind.workflow_name,
        task_queue=task_queue, output_dir=plan.output_dir, concurrency=plan.concurrency,
        manifest=plan.manifest, topics_file=file.path, total=file.total, carried=file.carried,
        cache=plan.cache, budget=plan.budget, delivery=plan.delivery,
    )


def topic_file(output_dir: str, topics: Iterable[PlannedTopic]) -> TopicFile:
    """Write a batch's topic file (see :mod:`runner.store.topics`).

    Raises:
        UsageError: it cannot be written; nothing is started.
    """
    try:
        return write_topics(output_dir, topics)
    except Exception as exc:  # OSError, or the store library's own (no credentials, no endpoint)
        raise UsageError(f"output_dir {output_dir}: cannot write the batch's topic file there "
                         f"({store_problem(exc)}); nothing was started") from exc
