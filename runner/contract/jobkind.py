"""The job-kind protocol: what a job kind gives the engine.

A job kind is a package that exposes ``JOB: JobKind`` and declares it as an entry point of the
``runner.jobs`` group (see :mod:`runner.config.jobkinds`). The engine knows no kind by name.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from runner.contract.policy import DEFAULT_POLICY
from runner.contract.types import StepPolicy

# Answers the offline provider's requests for one job kind's prompts: (system, user) -> the answer,
# or None when the request is not one of the kind's (recognised by the system prompt's FORMAT: line).
OfflineResponder = Callable[[str, str], "str | None"]


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
