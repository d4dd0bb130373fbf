"""The prompt job's contract: its steps, manifest options, outputs and activity input/output
(sandbox-safe)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from runner.contract.artifacts import Artifact
from runner.contract.jobkind import Step, TopicOutputs
from runner.contract.types import StepOutput, StepPolicy

STEPS = (
    Step("answer", StepPolicy(timeout_s=300), llm=True),
    Step("write", StepPolicy(timeout_s=60)),
)
WRITE_ACTIVITY = "prompt.write"
MAX_REASKS = 2


class PromptOptions(BaseModel):
    """Manifest keys of the prompt job (top level = defaults; each topic may override them)."""

    model_config = ConfigDict(extra="forbid")
    prompt: str = Field(description="the prompt; `{topic}` is replaced by each topic")
    system: str = Field(default="", description="system prompt")
    max_tokens: int = Field(default=1024, ge=1, le=200_000, description="most tokens per answer")
    temperature: float = Field(default=0.2, ge=0, le=2, description="sampling temperature")
    output: Literal["text", "json"] = Field(
        default="text", description="text: written as .md; json: parsed (an invalid answer is "
        f"re-asked with the parse error, at most {MAX_REASKS} times) and written as .json")

    @field_validator("prompt")
    @classmethod
    def _has_topic(cls, v: str) -> str:
        if "{topic}" not in v:
            raise ValueError("must contain {topic}, where each topic goes")
        return v


class PromptOutputs(TopicOutputs):
    """What a topic of the prompt job produced."""

    output: str | None = Field(default=None, description="the answer file (.md or .json)")

    def main_output(self) -> str | None:
        return self.output


class WriteInput(BaseModel):
    path: Artifact
    text: str | None = None
    data: Any = None


class WriteOutput(StepOutput):
    path: Artifact
    bytes: int
