"""The job-kind protocol: what a job kind gives the engine, and what the engine asks of it.

A job kind is a package that exposes ``JOB = JobKind(...)`` and declares it in its distribution's
``runner.jobs`` entry points (see :mod:`runner.config.jobkinds` and ``docs/job-kinds.md``)::

    [project.entry-points."runner.jobs"]
    prompt = "jobs.prompt:JOB"

Its parts: a per-topic workflow (a :class:`runner.workflow.topic.TopicWorkflow` subclass) that
declares the pipeline's :class:`Step` s, once, and the kind's :class:`TopicOutputs` model; its step
activities; the manifest options it adds; and, optionally, answers of the ``offline`` model for its
prompts. The engine knows no kind by name: it reads a topic's main output and report lines through
the outputs model's hooks.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from runner.contract.policy import DEFAULT_POLICY
from runner.contract.types import StepPolicy

# Answers the offline provider's requests for one job kind's prompts: (system, user) -> the answer,
# or None when the request is not one of the kind's (recognised by the system prompt's FORMAT: line).
OfflineResponder = Callable[[str, str], "str | None"]


def base_step(name: str) -> str:
    """The step a record is of: ``render (repair 1)`` is a run of ``render``."""
    return name.split(" (")[0]


@dataclass(frozen=True)
class Step:
    """One step of a job kind's pipeline.

    Attributes:
        name: how manifests (``steps:``, ``models:``), records and reports name it.
        policy: its default timeout, heartbeat and retry (a manifest's ``steps:`` overrides them);
            a step heartbeats if its default has a heartbeat. For an LLM step it applies to each
            model of the chain.
        llm: the step calls an LLM through the gateway (a manifest's ``models:`` names a chain for it).
            Its answers are cached by the LLM activity (keyed by model and request).
        speech: (with ``llm``) the step speaks text through the gateway (``gateway.speak``): its
            chain is ``models:`` under its own name only (``default:`` names chat models, which
            cannot speak); without one it is ``offline`` (espeak-ng).
        code: for the step cache, the code whose source decides the step's output besides its
            input: modules or packages (``jobs.explainer.scenes``) or one function or method of a
            module (``jobs.explainer.activities:ExplainerActivities.render``). A step that names
            none is never cached; its input must be a :class:`runner.contract.types.StepInput`.
        packages: Python distributions whose versions decide the output (``manim``).
        programs: commands whose first line of output is a version that decides it
            (``ffmpeg -version``); a program that is not installed counts as ``missing``.
        when: the name of a boolean option of the kind that turns the step on (``narration``): a
            topic whose option is off has no such step (``runner plan`` says so).
    """

    name: str
    policy: StepPolicy = field(default_factory=lambda: DEFAULT_POLICY)
    llm: bool = False
    speech: bool = False
    code: tuple[str, ...] = ()
    packages: tuple[str, ...] = ()
    programs: tuple[str, ...] = ()
    when: str | None = None

    def runs_for(self, params: dict[str, Any], options: type[BaseModel]) -> bool:
        """Whether a topic with these options (``params``, resolved or not) has this step."""
        if self.when is None:
            return True
        default = options.model_fields[self.when].default if self.when in options.model_fields else True
        return bool(params.get(self.when, default))

    @property
    def cached(self) -> bool:
        """Whether the step cache keeps this (non-LLM) step's outputs."""
        return bool(self.code) and not self.llm


class ReportMedia(BaseModel):
    """What report.html shows of a topic's deliverable: paths or URIs of files the topic made."""

    video: str | None = None
    thumbnail: str | None = None
    duration_s: float | None = None
    files: list[str] = []  # others to link to (subtitles, audio...)


class ReportCheck(BaseModel):
    """One check of a topic's output shown in report.html (a claim and what sympy said, say)."""

    text: str
    verdict: str  # e.g. verified, refuted, unknown: drawn as a badge
    detail: str = ""


class TopicOutputs(BaseModel):
    """Base of a job kind's outputs: what one topic produced, kept in its result file and shown by
    the report. Every field needs a default: a topic that fails half-way writes what it has.

    The engine calls the hooks below when it writes the batch's report; a kind overrides them.
    """

    def main_output(self) -> str | None:
        """The topic's deliverable (a file path or URI), named in the report and by ``runner submit``."""
        return None

    def report_lines(self) -> list[str]:
        """Markdown lines for the topic's section of ``report.md``, after its table of steps."""
        return []

    def report_media(self) -> ReportMedia:
        """The topic's video, thumbnail and other files, for report.html's gallery (by default the
        main output, linked)."""
        main = self.main_output()
        return ReportMedia(files=[main] if main else [])

    def report_checks(self) -> list[ReportCheck]:
        """Checks of the topic's output listed in report.html, with their verdicts."""
        return []


_MARKDOWN = re.compile(r"([\\`*\[\]<>|#!~])")
_UNDERSCORE = re.compile(r"(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")  # in a word (a_b, paths) it is text
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u202a-\u202e\u2066-\u2069]")


def markdown_text(value: Any) -> str:
    """``value`` as plain text inside Markdown (a table cell, a heading, a line): its Markdown and
    HTML characters escaped, control and bidi-override characters dropped, one line."""
    text = _CONTROL.sub("", str(value)).replace("\r", " ").replace("\n", " ").replace("\t", " ")
    return _UNDERSCORE.sub(r"\\_", _MARKDOWN.sub(r"\\\1", text))


def report_cell(value: Any) -> str:
    """``value`` as one cell of a Markdown table (for :meth:`TopicOutputs.report_lines`): text as
    it is, never markup (see :func:`markdown_text`)."""
    return markdown_text(value)


@dataclass(frozen=True)
class JobKind:
    """Everything the engine needs to know about a job kind.

    Attributes:
        name: the value of ``job:`` in a manifest.
        summary: one line for ``runner jobs``.
        workflow: the per-topic workflow class (a ``TopicWorkflow`` subclass); its ``steps`` and
            ``outputs_type`` are the kind's steps and outputs model.
        options: job-specific manifest keys, allowed at the top level (defaults) and per topic.
        activities: builds the kind's step activity callables for a worker (called only on workers
            that run steps, so heavy imports belong inside it).
        offline_responders: answers of the ``offline`` provider for this kind's prompts.
    """

    name: str
    summary: str
    workflow: type
    options: type[BaseModel]
    activities: Callable[[], Sequence[Callable[..., Any]]]
    offline_responders: tuple[OfflineResponder, ...] = field(default=())

    def __post_init__(self) -> None:
        steps = getattr(self.workflow, "steps", None)
        if not steps or not all(isinstance(s, Step) for s in steps):
            raise TypeError(f"job kind {self.name!r}: {self.workflow.__name__}.steps must declare the "
                            "pipeline's steps (a tuple of Step)")
        names = [s.name for s in steps]
        if len(set(names)) != len(names):
            raise TypeError(f"job kind {self.name!r}: step names repeat: {', '.join(names)}")
        if not issubclass(self.outputs, TopicOutputs):
            raise TypeError(f"job kind {self.name!r}: {self.workflow.__name__}.outputs_type must be "
                            "a TopicOutputs subclass")
        try:  # a topic starts with empty outputs: in a workflow, a failure here would retry forever
            self.outputs()
        except ValueError as exc:
            raise TypeError(f"job kind {self.name!r}: every field of {self.outputs.__name__} needs a "
                            f"default ({exc})") from exc

    @property
    def steps(self) -> tuple[Step, ...]:
        """The pipeline's steps, in order."""
        return tuple(getattr(self.workflow, "steps", ()))

    @property
    def step_names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.steps)

    @property
    def llm_steps(self) -> tuple[str, ...]:
        """The steps that call an LLM or speak (the keys a manifest's ``models:`` may name)."""
        return tuple(s.name for s in self.steps if s.llm)

    @property
    def speech_steps(self) -> tuple[str, ...]:
        """The steps that speak (their chain is never ``default:``)."""
        return tuple(s.name for s in self.steps if s.llm and s.speech)

    @property
    def outputs(self) -> type[TopicOutputs]:
        """The kind's outputs model."""
        outputs: type[TopicOutputs] = getattr(self.workflow, "outputs_type", TopicOutputs)
        return outputs

    def step(self, name: str) -> Step | None:
        """Step ``name`` (a re-run such as ``render (repair 1)`` is its step's)."""
        base = base_step(name)
        return next((s for s in self.steps if s.name == base), None)

    def policy(self, step: str) -> StepPolicy:
        """The default policy of ``step``."""
        return next((s.policy for s in self.steps if s.name == step), DEFAULT_POLICY)

    @property
    def workflow_name(self) -> str:
        """The registered workflow type name of the child workflow."""
        defn = getattr(self.workflow, "__temporal_workflow_definition")
        return str(defn.name)
