"""Job kinds plug into the engine here; the engine knows none of them by name.

A job kind is a package that exposes ``JOB: JobKind``. Kinds are found in the ``jobs`` package (every
sub-package) and in the ``runner.jobs`` entry-point group, so a kind can live in another distribution.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any

from pydantic import BaseModel

from runner.activity.llm.offline import OfflineResponder
from runner.contract.policy import DEFAULT_POLICY
from runner.contract.types import StepPolicy

ENTRY_POINT_GROUP = "runner.jobs"


@dataclass(frozen=True)
class JobKind:
    """Everything the engine needs to know about a job kind.

    Attributes:
        name: the value of ``job:`` in a manifest.
        summary: one line for ``runner jobs``.
        workflow: the per-topic child workflow class; ``run(TopicInput) -> TopicOutcome`` (ending
            through :func:`runner.topic.finish`), with a ``progress`` query answering
            :class:`runner.contract.types.TopicProgress`.
        activities: builds the job's activity callables for a worker.
        options: job-specific manifest keys, allowed at the top level (defaults) and per topic.
        steps: the pipeline's steps in order.
        llm_steps: the steps that call an LLM (the keys a manifest's ``models:`` may name).
        offline_responders: answers of the ``offline`` provider for this job's prompts.
        commands: builds the job's own ``runner`` subcommands (click commands), if any.

    The default timeout, heartbeat and retry of each step come from the workflow class's
    ``step_policies`` (see :class:`runner.workflow.topic.TopicWorkflow`).
    """

    name: str
    summary: str
    workflow: type
    activities: Callable[[], Sequence[Callable[..., Any]]]
    options: type[BaseModel]
    steps: tuple[str, ...]
    llm_steps: tuple[str, ...]
    offline_responders: tuple[OfflineResponder, ...] = field(default=())
    commands: Callable[[], Sequence[Any]] | None = None

    def policy(self, step: str) -> StepPolicy:
        """The default policy of ``step`` (a step heartbeats if its default has a heartbeat)."""
        policies: dict[str, StepPolicy] = getattr(self.workflow, "step_policies", {})
        return policies.get(step, DEFAULT_POLICY)

    @property
    def workflow_name(self) -> str:
        """The registered workflow type name of the child workflow."""
        defn = getattr(self.workflow, "__temporal_workflow_definition")
        return str(defn.name)


_cache: dict[str, JobKind] | None = None


def job_kinds() -> dict[str, JobKind]:
    """All job kinds, by name (loaded once)."""
    global _cache
    if _cache is None:
        found: dict[str, JobKind] = {}
        import jobs

        for info in sorted(pkgutil.iter_modules(jobs.__path__), key=lambda m: m.name):
            if info.ispkg:
                _add(found, importlib.import_module(f"jobs.{info.name}"))
        for ep in entry_points(group=ENTRY_POINT_GROUP):
            _add(found, ep.load())
        _cache = found
    return _cache


def _add(found: dict[str, JobKind], module: Any) -> None:
    kind = getattr(module, "JOB", module)
    if isinstance(kind, JobKind):
        found.setdefault(kind.name, kind)


def all_responders() -> list[OfflineResponder]:
    """Every job kind's offline responders."""
    return [r for kind in job_kinds().values() for r in kind.offline_responders]
