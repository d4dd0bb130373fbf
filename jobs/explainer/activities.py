"""The explainer's non-LLM activities: validate the math, render the scenes, merge the video.

They run on workers, never in workflow code; manim and sympy run in subprocesses, so this module
imports neither.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from temporalio import activity

from jobs.explainer.types import (
    MERGE_ACTIVITY,
    QUALITY_FLAGS,
    RENDER_ACTIVITY,
    VALIDATE_ACTIVITY,
    ClaimCheck,
    MergeInput,
    MergeOutput,
    RenderInput,
    RenderOutput,
    SceneFile,
    ValidateInput,
    ValidateOutput,
)
from runner.errors import PermanentStepError, StepError
from runner.proc import run_process, tail
from runner.report import write_json_atomic
from runner.step_activity import step_activity

CLAIM_TIMEOUT_S = 10.0
SCENE_TIMEOUT_S = 900.0
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
        """Save the scene files and check every claim with sympy (in a subprocess)."""
        topic_dir = Path(inp.topic_dir)
        scenes_dir = topic_dir / "scenes"
        scenes_dir.mkdir(parents=True, exist_ok=True)
        write_json_atomic(topic_dir / "script.json", inp.script.model_dump())
        files = []
        for scene in inp.script.scenes:
            path = scenes_dir / f"{scene.id}.py"
            path.write_text(scene.code, encoding="utf-8")
            files.append(SceneFile(id=scene.id, path=str(path), class_name=scene.class_name))
        claims = [(s.id, c) for s in inp.script.scenes for c in s.claims]
        results: list[dict[str, str]] = []
        if claims:
            request = {"claims": [c for _, c in claims], "timeout_per_claim": CLAIM_TIMEOUT_S}
            code, out, err = await run_process(
                [sys.executable, "-m", "jobs.explainer.mathcheck"], label="claim check", cwd=topic_dir,
                timeout=CLAIM_TIMEOUT_S * len(claims) + 60, stdin=json.dumps(request).encode(),
                on_tick=lambda: _heartbeat("checking claims"))
            if code != 0:
                raise StepError(f"the claim checker failed (exit {code}): {tail(err, 5)}")
            results = json.loads(out)["results"]
        checks = [ClaimCheck.model_validate({**r, "scene": scene_id})
                  for (scene_id, _), r in zip(claims, results, strict=True)]
        write_json_atomic(topic_dir / "validation.json", [c.model_dump() for c in checks])
        return ValidateOutput(scenes=files, claims=checks)

    @step_activity(RENDER_ACTIVITY)
    async def render(self, inp: RenderInput) -> RenderOutput:
        """Render every scene with manim, reusing scenes an earlier attempt finished.

        Heartbeats every few seconds with the scenes done so far, so a dead worker is noticed within
        the heartbeat timeout and a retry resumes where this attempt stopped.
        """
        videos: list[str] = []
        rendered: list[str] = []
        for scene in inp.scenes:
            target = self._target(scene, inp.quality)
            if not (target.is_file() and target.stat().st_size > 0):
                state = {"done": [Path(v).stem for v in videos], "current": scene.id}
                await self._with_slot(lambda s=scene, t=target, st=state:  # type: ignore[misc]
                                      self._render_scene(s, inp.quality, t, st), state)
                rendered.append(scene.id)
            videos.append(str(target))
            _heartbeat({"done": [Path(v).stem for v in videos]})
        return RenderOutput(videos=videos, rendered=rendered)

    @staticmethod
    def _target(scene: SceneFile, quality: str) -> Path:
        """Where a scene's video goes; named by a hash of its code, so changed code renders anew."""
        code = Path(scene.path).read_bytes()
        digest = hashlib.sha256(code + quality.encode() + scene.class_name.encode()).hexdigest()[:12]
        return Path(scene.path).with_name(f"{scene.id}-{quality}-{digest}.mp4")

    async def _with_slot(self, work: Callable[[], Awaitable[None]], state: dict[str, Any]) -> None:
        while True:
            try:
                await asyncio.wait_for(self._render_slots.acquire(), HEARTBEAT_EVERY_S)
                break
            except TimeoutError:
                _heartbeat({**state, "waiting": True})
        try:
            await work()
        finally:
            self._render_slots.release()

    async def _render_scene(self, scene: SceneFile, quality: str, target: Path,
                            state: dict[str, Any]) -> None:
        # A fresh media directory per render: manim reuses the partial movie files it finds there,
        # and a render killed mid-way (cancelled, or its worker died) leaves truncated ones behind.
        media = Path(tempfile.mkdtemp(prefix=f".media-{scene.id}-", dir=target.parent))
        try:
            argv = [sys.executable, "-m", "manim", "render", QUALITY_FLAGS[quality],
                    "--media_dir", str(media), "--progress_bar", "none", "-v", "WARNING",
                    "-o", scene.id, scene.path, scene.class_name]
            code, _, err = await run_process(argv, label=f"render {scene.id}", cwd=target.parent,
                                             timeout=SCENE_TIMEOUT_S, on_tick=lambda: _heartbeat(state))
            if code < 0:
                raise StepError(f"{scene.id}: manim was killed by signal {-code}")
            if code != 0:
                raise PermanentStepError(f"{scene.id}: manim failed (exit {code}):\n{tail(err)}")
            made = sorted(media.glob(f"videos/{Path(scene.path).stem}/*/{scene.id}.mp4"),
                          key=lambda p: p.stat().st_mtime)
            if not made:
                raise PermanentStepError(f"{scene.id}: manim exited 0 but wrote no video:\n{tail(err)}")
            os.replace(made[-1], target)
        finally:
            shutil.rmtree(media, ignore_errors=True)

    @step_activity(MERGE_ACTIVITY)
    async def merge(self, inp: MergeInput) -> MergeOutput:
        """Concatenate the scene videos into one mp4 (probing every part first)."""
        from jobs.explainer.media import merge_videos

        info = await merge_videos([Path(v) for v in inp.videos], Path(inp.output),
                                  on_tick=lambda: _heartbeat("merging"))
        return MergeOutput(video=inp.output, duration_s=info.duration_s, codec=info.codec,
                           width=info.width, height=info.height, reencoded=info.reencoded)

    def activities(self) -> list[object]:
        """The activity callables to register on a worker."""
        return [self.validate, self.render, self.merge]
