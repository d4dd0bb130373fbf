"""The explainer's contract: its steps, manifest options, the LLM steps' answers, activity
inputs/outputs, and the outputs of a topic with the report lines they draw.

Sandbox-safe (pydantic only). The JSON the LLM steps answer is described in ``contract.md``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from runner.contract.artifacts import Artifact
from runner.contract.jobkind import Step, TopicOutputs, report_cell
from runner.contract.types import StepInput, StepOutput, StepPolicy

Quality = Literal["low", "medium", "high"]

# The default policies: a manifest's `steps:` overrides them. The LLM steps' timeout is per model
# call; the other steps heartbeat every second while their subprocess runs.
# The step cache keys the last three by their input and by the code and tools named here.
ACTIVITIES = "jobs.explainer.activities:ExplainerActivities"
STEPS = (
    Step("decompose", StepPolicy(timeout_s=300), llm=True),
    Step("script", StepPolicy(timeout_s=300), llm=True),
    Step("validate", StepPolicy(timeout_s=600, heartbeat_s=60),
         code=(f"{ACTIVITIES}.validate", "jobs.explainer.claims", "jobs.explainer.mathcheck",
               "jobs.explainer.scenes.check", "jobs.explainer.scenes.lint",
               "jobs.explainer.scenes.rewrites"),
         packages=("sympy",)),
    Step("render", StepPolicy(timeout_s=1800, heartbeat_s=60),
         code=(f"{ACTIVITIES}.render", f"{ACTIVITIES}._target", "jobs.explainer.scenes.render",
               "runner.isolation"),
         packages=("manim",), programs=("ffmpeg -version", "latex --version")),
    Step("merge", StepPolicy(timeout_s=600, heartbeat_s=60),
         code=(f"{ACTIVITIES}.merge", "jobs.explainer.scenes.media"), programs=("ffmpeg -version",)),
)

VALIDATE_ACTIVITY = "explainer.validate"
RENDER_ACTIVITY = "explainer.render"
MERGE_ACTIVITY = "explainer.merge"


class ExplainerOptions(BaseModel):
    """Manifest keys of the explainer (top level = defaults; each topic may override them)."""

    model_config = ConfigDict(extra="forbid")
    quality: Quality = Field(default="low", description="low | medium | high (manim -ql / -qm / -qh)")
    code_repairs: int = Field(default=3, ge=0, le=10, description=(
        "rounds of repair: scenes that fail with a code error (or are blocked by the scene policy) "
        "go back to the script model with the error, at most this many times"))
    claim_regenerations: int = Field(default=2, ge=0, le=10, description=(
        "times a script whose claims sympy refutes is written again, told the refutations"))
    reencode: bool = Field(default=False, description=(
        "merge: re-encode the video to H.264 even when the scenes agree (they are copied otherwise)"))
    crf: int = Field(default=23, ge=0, le=51, description=(
        "merge: H.264 quality when re-encoding (lower is better and larger)"))


class PlannedScene(BaseModel):
    id: str = Field(pattern=r"^s[0-9]+$")
    title: str
    goal: str = ""


class Plan(BaseModel):
    """The decompose step's answer."""

    title: str
    scenes: list[PlannedScene] = Field(min_length=1, max_length=8)


class SceneScript(BaseModel):
    id: str = Field(pattern=r"^s[0-9]+$")
    class_name: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    code: str = Field(min_length=1)
    claims: list[str] = Field(default_factory=list)


class Script(BaseModel):
    """The script step's answer."""

    scenes: list[SceneScript] = Field(min_length=1)


class SceneFile(BaseModel):
    id: str
    path: Artifact
    class_name: str
    rewrites: list[str] = Field(default_factory=list, description="known-API rewrites made")


class SceneIssue(BaseModel):
    """A scene the model must fix: blocked by the policy lint, or failed with a code error."""

    scene: str
    kind: Literal["policy", "code"]
    message: str
    code: str = Field(default="", description="the code checked and rendered, when the known-API "
                      "rewrites changed the model's (the message's line numbers are of this code)")


class ClaimCheck(BaseModel):
    claim: str
    scene: str
    status: Literal["verified", "refuted", "unknown"]
    method: str = ""
    detail: str = ""


class ValidateInput(StepInput):
    topic_dir: Artifact
    script: Script


class ValidateOutput(StepOutput):
    scenes: list[SceneFile]
    claims: list[ClaimCheck]
    issues: list[SceneIssue] = Field(default_factory=list)
    files: list[Artifact] = Field(default_factory=list, description="the script and checks it wrote")


class RenderInput(StepInput):
    topic_dir: Artifact
    scenes: list[SceneFile]
    quality: Quality


class RenderOutput(StepOutput):
    videos: list[Artifact]
    rendered: list[str] = Field(description="scene ids rendered by this attempt (others were reused)")
    failed: list[SceneIssue] = Field(default_factory=list, description="scenes with a code error")
    isolation: str = ""


class MergeInput(StepInput):
    destinations = ("output",)
    videos: list[Artifact]
    output: Artifact
    reencode: bool = False
    crf: int = 23


class MergeOutput(StepOutput):
    video: Artifact
    duration_s: float
    codec: str
    width: int
    height: int
    reencoded: bool


class Attempt(BaseModel):
    """One round of validate and render, and how it ended."""

    step: str = Field(description="the step that settled it, e.g. `render (repair 1)`")
    outcome: Literal["rendered", "claims refuted", "policy blocked", "code error"]
    scenes: list[str] = Field(description="the scenes rendered, or the ones that failed")
    errors: list[str] = Field(default_factory=list)


class ExplainerOutputs(TopicOutputs):
    """What a topic of the explainer produced (its result file's ``outputs``)."""

    quality: Quality | None = None
    title: str | None = Field(default=None, description="the plan's title")
    scenes: list[str] = Field(default_factory=list, description="the planned scenes' titles")
    attempts: list[Attempt] = Field(default_factory=list)
    rewrites: list[str] = Field(default_factory=list, description="known-API rewrites, with the "
                                "scene and the step that made them")
    claims: list[ClaimCheck] = Field(default_factory=list, description="the last script's claims")
    sandbox: str | None = Field(default=None, description="the isolation the scenes rendered with")
    scene_videos: list[str] = Field(default_factory=list)
    video: str | None = None
    duration_s: float | None = None
    resolution: str | None = None
    codec: str | None = None

    def main_output(self) -> str | None:
        return self.video

    def report_lines(self) -> list[str]:
        """The attempts (when there was more than one), the rewrites and the claims."""
        lines: list[str] = []
        if len(self.attempts) > 1:  # one attempt that worked says nothing the step table does not
            lines += ["", "| attempt | step | outcome | scenes | error |", "|---|---|---|---|---|"]
            for i, a in enumerate(self.attempts, start=1):
                error = "; ".join(e.strip().splitlines()[-1] for e in a.errors if e.strip())
                lines.append(f"| {i} | {report_cell(a.step)} | {a.outcome} | "
                             f"{report_cell(', '.join(a.scenes))} | {report_cell(error[:300])} |")
        lines += [f"- rewritten: {report_cell(rewrite)}" for rewrite in self.rewrites]
        if self.claims:
            lines += ["", "| claim | check | detail |", "|---|---|---|"]
            lines += [f"| `{report_cell(c.claim)}` | {c.status} | {report_cell(c.detail)} |"
                      for c in self.claims]
        return lines
