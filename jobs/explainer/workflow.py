"""The explainer's per-topic workflow: decompose -> script -> validate -> render -> merge.

Sandbox-safe: only the shared types are imported; activities are called by name.
"""

from __future__ import annotations

import asyncio
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from pydantic import BaseModel, ValidationError

    from jobs.explainer import prompts
    from jobs.explainer.spoken import unchecked
    from jobs.explainer.types import (
        MERGE_ACTIVITY,
        RENDER_ACTIVITY,
        STEPS,
        VALIDATE_ACTIVITY,
        Attempt,
        ExplainerOptions,
        ExplainerOutputs,
        MergeInput,
        MergeOutput,
        Plan,
        RenderInput,
        RenderOutput,
        SceneIssue,
        SceneScript,
        Script,
        Sentence,
        ValidateInput,
        ValidateOutput,
        narration_problem,
        sentences,
    )
    from runner.contract.keys import input_key
    from runner.contract.llm import SpeechRequest
    from runner.contract.types import TopicInput, TopicOutcome
    from runner.workflow import gateway
    from runner.workflow.steps import StepLog
    from runner.workflow.topic import TopicWorkflow

EXPLAINER_WORKFLOW = "explainer.topic"
NARRATION_PATCH = "explainer.narration"
NARRATION_AT_ONCE_PATCH = "explainer.narration-at-once"


def parse_answer(text: str, model: type[BaseModel], what: str) -> Any:
    """Parse an LLM's JSON answer into ``model``; a bad one fails the step for good."""
    try:
        return model.model_validate(gateway.json_answer(text))
    except (ValueError, ValidationError) as exc:
        raise ApplicationError(f"the {what} answer is not valid: {str(exc)[:300]}",
                               type="InvalidModelOutput", non_retryable=True) from exc


@workflow.defn(name=EXPLAINER_WORKFLOW)
class ExplainerWorkflow(TopicWorkflow):
    """One topic in, one explainer video out."""

    steps = STEPS
    outputs_type = ExplainerOutputs
    narrated = False  # this topic speaks its narration (set when its pipeline starts)
    final_script: Script = Script.model_construct(scenes=[])  # the script whose scenes rendered

    @workflow.run
    async def run(self, inp: TopicInput) -> TopicOutcome:
        return await self.execute(inp, self.pipeline)

    async def pipeline(self, inp: TopicInput, log: StepLog, outputs: ExplainerOutputs) -> None:
        """decompose -> script -> validate -> render -> merge."""
        queue = inp.task_queue
        options = self.options(ExplainerOptions, inp)
        outputs.quality = options.quality
        answer = await gateway.complete(log, "decompose", prompts.decompose_request(inp.spec.topic),
                                        inp.spec.models["decompose"], task_queue=queue,
                                        models_out=self.models_out)
        plan: Plan = self._checked(log, "decompose", lambda: parse_answer(answer.text, Plan, "decompose"))
        outputs.title = plan.title
        outputs.scenes = [s.title for s in plan.scenes]

        # topics begun before narration existed run on without it (their histories replay); a
        # catalog with no voice for it (no narrate chain, no offline model) makes silent videos
        narrated = (options.narration and bool(inp.spec.models.get("narrate", ["offline"]))
                    and workflow.patched(NARRATION_PATCH))
        answer = await gateway.complete(log, "script", prompts.script_request(inp.spec.topic, plan,
                                                                              narrated),
                                        inp.spec.models["script"], task_queue=queue,
                                        models_out=self.models_out)
        script: Script = self._checked(log, "script",
                                       lambda: self._script(answer.text, plan, narrated))
        self.narrated = narrated
        rendered = await self._validate_render_repair(inp, log, outputs, options, plan, script)
        outputs.scene_videos = rendered.videos
        voices = await self._narrate(inp, log, options, self.final_script) if narrated else []

        merged = await log.run(
            "merge", MERGE_ACTIVITY,
            MergeInput(videos=rendered.videos, output=f"{inp.output_dir}/{inp.spec.id}.mp4",
                       reencode=options.reencode, crf=options.crf, narration=voices,
                       subtitles=options.subtitles if voices else "off"),
            result_type=MergeOutput, task_queue=queue)
        outputs.video = merged.video
        outputs.duration_s = merged.duration_s
        outputs.resolution = f"{merged.width}x{merged.height}"
        outputs.codec = merged.codec
        outputs.audio = merged.audio
        outputs.subtitles = merged.subtitles
        outputs.thumbnail = merged.thumbnail

    async def _narrate(self, inp: TopicInput, log: StepLog, options: ExplainerOptions,
                       script: Script) -> list[list[Sentence]]:
        """Speak every sentence of every scene's narration (step ``narrate (s1.1)``, ...) with the
        narrate chain; per scene, its spoken sentences."""
        chain = inp.spec.models.get("narrate") or ["offline"]

        async def say(scene: str, n: int, text: str) -> Sentence:
            where = f"{inp.topic_dir}/audio/{scene}-{n}-{input_key(text, options.voice)[:10]}.wav"
            answer = await gateway.speak(
                log, f"narrate ({scene}.{n})", SpeechRequest(text=text, voice=options.voice, output=where),
                chain, task_queue=inp.task_queue, models_out=self.models_out)
            return Sentence(text=text, audio=answer.audio, duration_s=answer.duration_s)

        if not workflow.patched(NARRATION_AT_ONCE_PATCH):  # topics begun when they took turns
            return [[await say(scene.id, n, text) for n, text in enumerate(sentences(scene.narration), 1)]
                    for scene in script.scenes]
        # every sentence at once: the model's task queue paces them to its rate limit
        said = [[asyncio.ensure_future(say(scene.id, n, text))
                 for n, text in enumerate(sentences(scene.narration), start=1)] for scene in script.scenes]
        every = [s for scene in said for s in scene]
        try:
            spoken = await asyncio.gather(*every)
        except BaseException:  # one failed for good (or the topic is cancelled): stop the others
            for task in every:
                task.cancel()
            await asyncio.gather(*every, return_exceptions=True)
            raise
        voices, at = [], 0
        for scene in said:
            voices.append(list(spoken[at:at + len(scene)]))
            at += len(scene)
        return voices

    async def _validate_render_repair(self, inp: TopicInput, log: StepLog, outputs: ExplainerOutputs,
                                      options: ExplainerOptions, plan: Plan,
                                      script: Script) -> RenderOutput:
        """validate -> render, until every scene renders: refuted claims send the whole script back
        to the script model (at most ``claim_regenerations`` times), scenes blocked by the policy
        or failing with a code error go back one by one (at most ``code_repairs`` rounds). Every
        attempt is in ``outputs.attempts``; steps after the first are named ``... (repair N)``
        or ``... (regenerate N)``."""
        queue, chain = inp.task_queue, inp.spec.models["script"]
        repairs = regenerations = 0
        while True:
            suffix = "".join(f" ({k} {n})" for k, n in (("regenerate", regenerations),
                                                          ("repair", repairs)) if n)
            step = f"validate{suffix}"
            checked = await log.run(step, VALIDATE_ACTIVITY,
                                    ValidateInput(topic_dir=inp.topic_dir, script=script),
                                    result_type=ValidateOutput, task_queue=queue)
            outputs.claims = checked.claims
            outputs.rewrites += [f"{f.id} {r} (at {step})" for f in checked.scenes for r in f.rewrites]
            refuted = [c for c in checked.claims if c.status == "refuted"]
            if refuted:
                log.reject(step, f"{len(refuted)} claim(s) refuted")
                outputs.attempts.append(Attempt(
                    step=step, outcome="claims refuted", scenes=sorted({c.scene for c in refuted}),
                    errors=[f"{c.claim} ({c.detail})" for c in refuted]))
                if regenerations >= options.claim_regenerations:
                    raise ApplicationError(
                        f"{len(refuted)} claim(s) refuted, e.g. {refuted[0].claim} ({refuted[0].detail})"
                        f" after {regenerations} regeneration(s)", type="ClaimRefuted", non_retryable=True)
                regenerations += 1
                request = prompts.regenerate_request(inp.spec.topic, plan,
                                                     [f"{c.claim}: {c.detail}" for c in refuted],
                                                     self.narrated)
                name = f"script (regenerate {regenerations})"
                answer = await gateway.complete(log, name, request, chain, task_queue=queue,
                                                models_out=self.models_out)
                script = self._checked(log, name,
                                       lambda a=answer: self._script(a.text, plan, self.narrated))
                continue
            issues = checked.issues
            if not issues:
                step = f"render{suffix}"
                rendered = await log.run(
                    step, RENDER_ACTIVITY,
                    RenderInput(topic_dir=inp.topic_dir, scenes=checked.scenes, quality=options.quality),
                    result_type=RenderOutput, task_queue=queue)
                outputs.sandbox = rendered.isolation
                issues = rendered.failed
                if not issues:
                    outputs.attempts.append(Attempt(step=step, outcome="rendered",
                                                    scenes=[s.id for s in checked.scenes]))
                    self.final_script = script
                    if self.narrated:
                        outputs.narration = [s.narration for s in script.scenes]
                        outputs.narration_unchecked = [
                            f"{s.id}: \"{sentence}\" names {', '.join(names)}, which no claim of "
                            "the scene has" for s in script.scenes
                            for sentence, names in unchecked(s.narration, s.claims)]
                    return rendered
            log.reject(step, "; ".join(f"{i.scene}: {i.message.splitlines()[-1]}" for i in issues))
            outputs.attempts.append(Attempt(
                step=step, outcome="policy blocked" if all(i.kind == "policy" for i in issues)
                else "code error", scenes=[i.scene for i in issues], errors=[i.message for i in issues]))
            if repairs >= options.code_repairs:
                first = issues[0]
                raise ApplicationError(
                    f"scene {first.scene} still fails after {repairs} repair round(s): "
                    f"{first.message.splitlines()[-1]}", type="SceneCodeError", non_retryable=True)
            repairs += 1
            script = await self._repair(inp, log, plan, script, issues, repairs)

    async def _repair(self, inp: TopicInput, log: StepLog, plan: Plan, script: Script,
                      issues: list[SceneIssue], round_: int) -> Script:
        """Ask the script model to fix each failing scene; the script with the fixed scenes."""
        scenes = {s.id: s for s in script.scenes}
        for issue in issues:
            old = scenes[issue.scene]
            request = prompts.repair_request(inp.spec.topic, plan, old, issue.message, issue.code,
                                             self.narrated)
            name = f"script (repair {round_} {issue.scene})"
            answer = await gateway.complete(log, name, request, inp.spec.models["script"],
                                            task_queue=inp.task_queue, models_out=self.models_out)
            scenes[issue.scene] = self._checked(
                log, name, lambda a=answer, o=old: self._fixed(a.text, o, self.narrated))
        return Script(scenes=[scenes[s.id] for s in script.scenes])

    @staticmethod
    def _fixed(text: str, old: SceneScript, narrated: bool = False) -> SceneScript:
        fixed: SceneScript = parse_answer(text, SceneScript, "repair")
        if fixed.id != old.id:
            raise ApplicationError(f"the repair answer is for scene {fixed.id}, not {old.id}",
                                   type="InvalidModelOutput", non_retryable=True)
        if narrated and not fixed.narration.strip():  # a repair of the code may leave it out
            fixed = fixed.model_copy(update={"narration": old.narration})
        if narrated and (problem := narration_problem(fixed)):
            raise ApplicationError(f"the repair answer: {problem}", type="InvalidModelOutput",
                                   non_retryable=True)
        return fixed

    @staticmethod
    def _checked(log: StepLog, step: str, parse: Any) -> Any:
        """Run ``parse`` on step ``step``'s answer; a bad answer fails that step."""
        try:
            return parse()
        except ApplicationError as err:
            log.reject(step, err.message)
            raise

    @staticmethod
    def _script(text: str, plan: Plan, narrated: bool = False) -> Script:
        script: Script = parse_answer(text, Script, "script")
        want = [s.id for s in plan.scenes]
        got = [s.id for s in script.scenes]
        if got != want:
            raise ApplicationError(f"the script answer has scenes {got}, the plan has {want}",
                                   type="InvalidModelOutput", non_retryable=True)
        problems = [p for s in script.scenes if (p := narration_problem(s))] if narrated else []
        if problems:
            raise ApplicationError(f"the script answer: {'; '.join(problems)}",
                                   type="InvalidModelOutput", non_retryable=True)
        return script
