"""The explainer's contract: its steps, manifest options, the LLM steps' answers, activity
inputs/outputs, and the outputs of a topic with the report lines they draw.

Sandbox-safe (pydantic only). The JSON the LLM steps answer is described in ``contract.md``.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, SerializerFunctionWrapHandler, model_serializer

from runner.contract.artifacts import Artifact
from runner.contract.jobkind import ReportCheck, ReportMedia, Step, TopicOutputs, report_cell
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
    # one speech call per sentence of a scene's narration, named "narrate s1.2"
    Step("narrate", StepPolicy(timeout_s=120), llm=True, speech=True, when="narration"),
    Step("merge", StepPolicy(timeout_s=600, heartbeat_s=60),
         code=(f"{ACTIVITIES}.merge", "jobs.explainer.scenes.media"), programs=("ffmpeg -version",)),
)
Subtitles = Literal["sidecar", "burn", "off"]
MAX_NARRATION = 600  # characters per scene

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
    narration: bool = Field(default=True, description=(
        "speak each scene's narration (the script step writes it) and put the voice in the video; "
        "a scene lasts at least as long as its narration (the voice: `models: {narrate: [...]}`, "
        "default offline, espeak-ng); on or off"))
    voice: str = Field(default="", max_length=64, pattern=r"^[A-Za-z0-9_+.-]*$", description=(
        "the speech model's voice (e.g. alloy for openai/tts-1, en-us or en-gb for offline); "
        "empty: the model's default"))
    subtitles: Subtitles = Field(default="sidecar", description=(
        "sidecar: an .srt and a .vtt beside each video; burn: also drawn into the picture; off"))


class AddedFields(BaseModel):
    """Fields added to a model after topics were recorded with it are left out of its JSON while
    they hold their defaults: an input made before them keeps its checkpoint key, so a topic that
    `runner retry` resumed still replays (tests/test_replay.py)."""

    added: ClassVar[tuple[str, ...]] = ()

    @model_serializer(mode="wrap")
    def _without_added_defaults(self, handler: SerializerFunctionWrapHandler) -> Any:
        data = handler(self)
        if isinstance(data, dict):
            for name in self.added:
                field = type(self).model_fields[name]
                if name in data and getattr(self, name) == field.get_default(call_default_factory=True):
                    del data[name]
        return data


class PlannedScene(BaseModel):
    id: str = Field(pattern=r"^s[0-9]+$")
    title: str
    goal: str = ""


class Plan(BaseModel):
    """The decompose step's answer."""

    title: str
    scenes: list[PlannedScene] = Field(min_length=1, max_length=8)


class SceneScript(AddedFields):
    added = ("narration",)
    id: str = Field(pattern=r"^s[0-9]+$")
    class_name: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    code: str = Field(min_length=1)
    claims: list[str] = Field(default_factory=list)
    narration: str = Field(default="", description="what a voice says over the scene: plain "
                           "sentences, no markup")


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


class Sentence(BaseModel):
    """One spoken sentence of a scene's narration."""

    text: str
    audio: Artifact
    duration_s: float


class MergeInput(StepInput, AddedFields):
    destinations = ("output",)
    added = ("narration", "subtitles")
    videos: list[Artifact]
    output: Artifact
    reencode: bool = False
    crf: int = 23
    narration: list[list[Sentence]] = Field(default_factory=list, description="per scene, its "
                                            "spoken sentences (none: a silent video)")
    subtitles: Subtitles = "off"


class MergeOutput(StepOutput):
    video: Artifact
    duration_s: float
    codec: str
    width: int
    height: int
    reencoded: bool
    audio: bool = False
    subtitles: list[Artifact] = Field(default_factory=list, description="the .srt and .vtt")
    thumbnail: Artifact | None = None


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
    narration: list[str] = Field(default_factory=list, description="each scene's narration")
    narration_unchecked: list[str] = Field(default_factory=list, description=(
        "narration sentences that state what none of their scene's claims checks (flagged, not "
        "failed)"))
    audio: bool = False
    subtitles: list[str] = Field(default_factory=list)
    thumbnail: str | None = None

    def main_output(self) -> str | None:
        return self.video

    def report_media(self) -> ReportMedia:
        return ReportMedia(video=self.video, thumbnail=self.thumbnail, duration_s=self.duration_s,
                           files=list(self.subtitles))

    def report_checks(self) -> list[ReportCheck]:
        """The last script's claims and what sympy said; the narration's unchecked statements."""
        return ([ReportCheck(text=f"{c.scene}: {c.claim}", verdict=c.status, detail=c.detail)
                 for c in self.claims]
                + [ReportCheck(text=flag, verdict="unchecked", detail="stated in the narration; no "
                               "claim of the scene names it") for flag in self.narration_unchecked])

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
        if self.audio:
            lines.append(f"- narrated: {len(self.narration)} scene(s); subtitles: "
                         f"{report_cell(', '.join(self.subtitles) or 'none')}; thumbnail: "
                         f"{report_cell(self.thumbnail or 'none')}")
        lines += [f"- narration not checked by a claim: {report_cell(flag)}"
                  for flag in self.narration_unchecked]
        if self.claims:
            lines += ["", "| claim | check | detail |", "|---|---|---|"]
            lines += [f"| `{report_cell(c.claim)}` | {c.status} | {report_cell(c.detail)} |"
                      for c in self.claims]
        return lines


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_MARKUP = re.compile(r"[<>*#`$\\{}\[\]|_~]")


def sentences(narration: str) -> list[str]:
    """A narration's sentences, in order (a cue and a speech call each)."""
    return [s.strip() for s in _SENTENCE_END.split(narration.strip()) if s.strip()]


def narration_problem(scene: SceneScript) -> str | None:
    """What is wrong with a scene's narration as a voice would say it (None: nothing)."""
    text = scene.narration.strip()
    if not text:
        return f"scene {scene.id} has no narration"
    if len(text) > MAX_NARRATION:
        return f"scene {scene.id}'s narration is {len(text)} characters long (at most {MAX_NARRATION})"
    if found := _MARKUP.search(text):
        return f"scene {scene.id}'s narration holds markup ({found.group()!r}): plain sentences only"
    return None
