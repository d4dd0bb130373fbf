"""The tally kind's contract (sandbox-safe)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from runner.contract.jobkind import Step, TopicOutputs, report_cell
from runner.contract.types import StepOutput, StepPolicy

FORMAT = "tally.v1"
WRITE_ACTIVITY = "tally.write"
STEPS = (
    Step("count", StepPolicy(timeout_s=30), llm=True),
    Step("write", StepPolicy(timeout_s=20)),
)


class TallyOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    unit: str = Field(default="words", min_length=1, description="what the count is called")
    refuse: bool = Field(default=False, description="the write step fails for good (for tests)")


class TallyOutputs(TopicOutputs):
    file: str | None = None
    count: int | None = None
    unit: str = "words"

    def main_output(self) -> str | None:
        return self.file

    def report_lines(self) -> list[str]:
        return [] if self.count is None else ["", f"- tally: {self.count} {report_cell(self.unit)}"]


class WriteInput(BaseModel):
    path: str
    topic: str
    count: int
    refuse: bool = False


class WriteOutput(StepOutput):
    path: str
