"""The explainer job kind: a math topic in, a short explainer video out.

decompose (LLM) -> script (LLM writes Manim code and its claims) -> validate (sympy) ->
render (manim, heartbeating) -> merge (ffmpeg).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from jobs.explainer.types import ExplainerOptions
from jobs.explainer.workflow import ExplainerWorkflow
from runner.contract.jobkind import JobKind


def _activities() -> Sequence[Callable[..., Any]]:
    from jobs.explainer.activities import ExplainerActivities

    return ExplainerActivities().activities()  # type: ignore[return-value]


def _offline(system: str, user: str) -> str | None:
    if "FORMAT: explainer." not in system:  # not ours: spare the sympy import
        return None
    from jobs.explainer.offline import respond

    answer: str | None = respond(system, user)
    return answer


JOB = JobKind(
    name="explainer",
    summary="a math topic in, a short explainer video out (LLM plan and Manim script, sympy "
    "checks, manim render, ffmpeg merge)",
    workflow=ExplainerWorkflow,
    activities=_activities,
    options=ExplainerOptions,
    offline_responders=(_offline,),
)
