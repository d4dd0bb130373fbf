"""A manifest's ``delivery:``: which LLM steps go through the providers' batch APIs, and how calls
are gathered into provider batches (see :mod:`runner.contract.delivery`)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from runner.config.yamlsource import YamlSource
from runner.contract.delivery import Delivery
from runner.contract.errors import Problem
from runner.contract.jobkind import JobKind
from runner.contract.policy import Duration


class DeliveryEntry(BaseModel):
    """``delivery: batch`` (every LLM step), ``realtime`` (the default), or a mapping."""

    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)
    mode: Literal["realtime", "batch"] = Field(default="batch", description="batch: through the "
                                               "provider's batch API (half price, answers within "
                                               "hours); realtime: one request per call")
    steps: list[str] | None = Field(default=None, description="the LLM steps delivered so (default: "
                                    "every LLM step but speech)")
    gather: Duration = Field(default=60.0, description="a model's window of calls is submitted this "
                             "long after its first call came ...")
    max_requests: int = Field(default=10_000, ge=1, le=100_000, description="... or once it holds "
                              "this many calls")
    poll: Duration = Field(default=30.0, description="how often a submitted provider batch is looked at")

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, v: Any) -> Any:
        return {"mode": v} if isinstance(v, str) else v

    @field_validator("gather", "poll")
    @classmethod
    def _bounded(cls, v: float) -> float:
        if not 0.5 <= v <= 24 * 3600:
            raise ValueError(f"must be between 500ms and 24h, got {v:g} s")
        return v

    def resolve(self, kind: JobKind) -> Delivery | None:
        if self.mode == "realtime":
            return None
        steps = self.steps if self.steps is not None else [s for s in kind.llm_steps
                                                            if s not in kind.speech_steps]
        return Delivery(steps=steps, gather_s=self.gather, max_requests=self.max_requests,
                        poll_s=self.poll) if steps else None


def check_delivery(data: dict[str, Any], source: YamlSource, kind: JobKind | None) -> list[Problem]:
    """``delivery.steps`` names LLM steps of the job (speech has no batch API)."""
    entry = data.get("delivery")
    if kind is None or not isinstance(entry, dict) or not isinstance(entry.get("steps"), list):
        return []
    allowed = [s for s in kind.llm_steps if s not in kind.speech_steps]
    return [source.problem(("delivery", "steps", i), f"{step!r} is not an LLM step of job "
                           f"{kind.name!r} (those are: {', '.join(allowed) or 'none'})")
            for i, step in enumerate(entry["steps"]) if step not in allowed]
