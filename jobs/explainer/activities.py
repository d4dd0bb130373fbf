"""The explainer's non-LLM activities: validate the math, render the scenes, merge the video.

They run on workers, never in workflow code. Model-written code and claims only ever run in the
sandbox (:mod:`runner.isolation.sandbox`); this module imports neither manim nor sympy.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from temporalio import activity

from jobs.explainer.claims import check_claims
from jobs.explainer.scenes.check import check_scene
from jobs.explainer.scenes.render import DEFAULT_TIMEOUT_S, render_scene
from jobs.explainer.types import (
    MERGE_ACTIVITY,
    RENDER_ACTIVITY,
    VALIDATE_ACTIVITY,
    ClaimCheck,
    MergeInput,
    MergeOutput,
    RenderInput,
    RenderOutput,
    SceneFile,
    SceneIssue,
    ValidateInput,
    ValidateOutput,
)
from runner.activity.step import step_activity
from runner.contract.artifacts import fetch, publish
from runner.contract.errors import StepError
from runner.store.files import write_json_atomic, write_text_atomic

SCENE_TIMEOUT_S = DEFAULT_TIMEOUT_S
HEARTBEAT_EVERY_S = 1.0


def _heartbeat(details: Any) -> None:
    with contextlib.suppress(RuntimeError):  # outside an activity (direct calls in tests)
        activity.heartbeat(details)


class ExplainerActivities:
    """validate, render and merge; ``max_renders`` bounds manim processes per worker."""

    def __init__(self, *, max_renders: int | None = None) -> None:
        self._render_slots = asyncio.Semaphore(max_renders or os.cpu_count() or 2)

    @step_activity(VALIDATE_ACTIVITY)
    async def validate(self, inp: ValidateInput) -> ValidateOutput:
        """Check every scene statically (known-API rewrites, policy lint) and save it; check every
        claim with sympy in the sandbox."""
        topic_dir = Path(inp.topic_dir)
        scenes_dir = topic_dir / "scenes"
        scenes_dir.mkdir(parents=True, exist_ok=True)
        write_json_atomic(topic_dir / "script.json", inp.script.model_dump())
        files, issues = [], []
        for scene in inp.script.scenes:
            checked = check_scene(scene.code, scene.class_name)
            # named by its content: a checkpoint of this step reused by `runner retry` must point at
            # this code, not at whatever a later validate of the same scene wrote
            digest = hashlib.sha256(checked.code.encode()).hexdigest()[:10]
            path = scenes_dir / f"{scene.id}-{digest}.py"
            path.write_text(checked.code, encoding="utf-8")
            files.append(SceneFile(id=scene.id, path=str(path), class_name=scene.class_name,
                                   rewrites=[str(r) for r in checked.rewrites]))
            rewritten = checked.code if checked.rewrites else ""
            if checked.violations:
                issues.append(SceneIssue(scene=scene.id, kind="policy", message="blocked by the scene "
                                         "policy:\n" + "\n".join(str(v) for v in checked.violations),
                                         code=rewritten))
            elif checked.problems:
                issues.append(SceneIssue(scene=scene.id, kind="code", code=rewritten,
                                         message="\n".join(str(p) for p in checked.problems)))
        claims = [(s.id, c) for s in inp.script.scenes for c in s.claims]
        results = await check_claims([c for _, c in claims], workdir=scenes_dir,
                                     on_tick=lambda: _heartbeat("checking claims"))
        checks = [ClaimCheck.model_validate({**r, "scene": scene_id})
                  for (scene_id, _), r in zip(claims, results, strict=True)]
        write_json_atomic(topic_dir / "validation.json", [c.model_dump() for c in checks])
        return ValidateOutput(scenes=files, claims=checks, issues=issues,
                              files=[str(topic_dir / "script.json"), str(topic_dir / "validation.json")])

    @step_activity(RENDER_ACTIVITY)
    async def render(self, inp: RenderInput) -> RenderOutput:
        """Render every scene in the sandbox, reusing scenes an earlier attempt finished.

        Heartbeats every second with the scenes done so far, so a dead worker is noticed within
        the heartbeat timeout and a retry resumes where this attempt stopped. A scene with a code
        error is reported in ``failed`` (for the repair loop), the others still render; an
        infrastructure failure (timeout, a killed manim, the sandbox) raises, and Temporal retries.
        """
        videos: list[str] = []
        rendered: list[str] = []
        failed: list[SceneIssue] = []
        isolation = ""
        for scene in inp.scenes:
            target = self._target(scene, inp.quality)
            # rendered by an earlier attempt: here, or in the batch's store by another worker
            if not await asyncio.to_thread(fetch, str(target)):
                state = {"done": [Path(v).stem for v in videos], "current": scene.id}
                code = Path(scene.path).read_text(encoding="utf-8")
                result = await self._with_slot(lambda s=scene, c=code, t=target, st=state:  # type: ignore[misc]
                                               render_scene(c, output=t, quality=inp.quality,
                                                            class_name=s.class_name,
                                                            timeout=SCENE_TIMEOUT_S,
                                                            name=Path(s.path).name,
                                                            on_tick=lambda: _heartbeat(st)), state)
                isolation = result.isolation or isolation
                if result.outcome == "infra":
                    raise StepError(f"{scene.id}: {result.message}")
                if result.outcome != "ok":
                    failed.append(SceneIssue(scene=scene.id, kind="policy" if result.outcome == "policy"
                                             else "code", message=result.message,
                                             code=code if scene.rewrites else ""))
                    continue
                await asyncio.to_thread(publish, str(target))  # before the heartbeat says it is done
                rendered.append(scene.id)
            videos.append(str(target))
            _heartbeat({"done": [Path(v).stem for v in videos]})
        return RenderOutput(videos=videos, rendered=rendered, failed=failed, isolation=isolation)

    @staticmethod
    def _target(scene: SceneFile, quality: str) -> Path:
        """Where a scene's video goes; named by a hash of its code, so changed code renders anew."""
        code = Path(scene.path).read_bytes()
        digest = hashlib.sha256(code + quality.encode() + scene.class_name.encode()).hexdigest()[:12]
        return Path(scene.path).with_name(f"{scene.id}-{quality}-{digest}.mp4")

    async def _with_slot(self, work: Callable[[], Awaitable[Any]], state: dict[str, Any]) -> Any:
        while True:
            try:
                await asyncio.wait_for(self._render_slots.acquire(), HEARTBEAT_EVERY_S)
                break
            except TimeoutError:
                _heartbeat({**state, "waiting": True})
        try:
            return await work()
        finally:
            self._render_slots.release()

    @step_activity(MERGE_ACTIVITY)
    async def merge(self, inp: MergeInput) -> MergeOutput:
        """Concatenate the scene videos into one mp4 (probing every part first); with narration,
        each scene's voice goes with it (AAC), subtitles beside it (.srt, .vtt) or in it, and a
        thumbnail (.jpg) beside it."""
        from jobs.explainer.scenes.media import (
            Cue,
            Voiceover,
            merge_narrated,
            merge_videos,
            subtitles,
            thumbnail,
        )

        output = Path(inp.output)
        tick = lambda: _heartbeat("merging")  # noqa: E731
        if not inp.narration:
            info = await merge_videos([Path(v) for v in inp.videos], output, on_tick=tick,
                                      reencode=inp.reencode, crf=inp.crf)
            return MergeOutput(video=inp.output, duration_s=info.duration_s, codec=info.codec,
                               width=info.width, height=info.height, reencoded=info.reencoded)
        voices: list[Voiceover | None] = []
        for sentences in inp.narration:
            cues, at = [], 0.0
            for s in sentences:
                cues.append(Cue(at, at + s.duration_s, s.text))
                at += s.duration_s
            voices.append(Voiceover(tuple(Path(s.audio) for s in sentences), tuple(cues))
                          if sentences else None)
        info, placed = await merge_narrated([Path(v) for v in inp.videos], voices, output, on_tick=tick,
                                            crf=inp.crf, burn=inp.subtitles == "burn")
        written = []
        if inp.subtitles != "off" and placed:
            for kind in ("srt", "vtt"):
                path = output.with_suffix(f".{kind}")
                write_text_atomic(path, subtitles(placed, kind))
                written.append(str(path))
        thumb = output.with_suffix(".jpg")
        await thumbnail(output, thumb, info.duration_s / 2)
        return MergeOutput(video=inp.output, duration_s=info.duration_s, codec=info.codec,
                           width=info.width, height=info.height, reencoded=True, audio=True,
                           subtitles=written, thumbnail=str(thumb))

    def activities(self) -> list[object]:
        """The activity callables to register on a worker."""
        return [self.validate, self.render, self.merge]
