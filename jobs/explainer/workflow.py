"""The explainer's per-topic workflow: decompose -> script -> validate -> render -> merge.

Sandbox-safe: only the shared types are imported; activities are called by name.
"""

from __future__ import annotations

from typing import Any

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from pydantic import BaseModel, ValidationError

    from jobs.explainer import prompts
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
        ValidateInput,
        ValidateOutput,
    )
    from runner.contract.types import TopicInput, TopicOutcome
    from runner.workflow import gateway
    from runner.workflow.steps import StepLog
    from runner.workflow.topic import TopicWorkflow

EXPLAINER_WORKFLOW = "explainer.topic"


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

        answer = await gateway.complete(log, "script", prompts.script_request(inp.spec.topic, plan),
                                        inp.spec.models["script"], task_queue=queue,
                                        models_out=self.models_out)
        script: Script = self._checked(log, "script", lambda: self._script(answer.text, plan))
        rendered = await self._validate_render_repair(inp, log, outputs, options, plan, script)
        outputs.scene_videos = rendered.videos

        merged = await log.run(
            "merge", MERGE_ACTIVITY,
            MergeInput(videos=rendered.videos, output=f"{inp.output_dir}/{inp.spec.id}.mp4",
                       reencode=options.reencode, crf=options.crf),
            result_type=MergeOutput, task_queue=queue)
        outputs.video = merged.video
        outputs.duration_s = merged.duration_s
        outputs.resolution = f"{merged.width}x{merged.height}"
        outputs.codec = merged.codec

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
                                                     [f"{c.claim}: {c.detail}" for c in refuted])
                name = f"script (regenerate {regenerations})"
                answer = await gateway.complete(log, name, request, chain, task_queue=queue,
                                                models_out=self.models_out)
                script = self._checked(log, name, lambda a=answer: self._script(a.text, plan))
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
            request = prompts.repair_request(inp.spec.topic, plan, old, issue.message, issue.code)
            name = f"script (repair {round_} {issue.scene})"
            answer = await gateway.complete(log, name, request, inp.spec.models["script"],
                                            task_queue=inp.task_queue, models_out=self.models_out)
            scenes[issue.scene] = self._checked(log, name, lambda a=answer, o=old: self._fixed(a.text, o))
        return Script(scenes=[scenes[s.id] for s in script.scenes])

    @staticmethod
    def _fixed(text: str, old: SceneScript) -> SceneScript:
        fixed: SceneScript = parse_answer(text, SceneScript, "repair")
        if fixed.id != old.id:
            raise ApplicationError(f"the repair answer is for scene {fixed.id}, not {old.id}",
                                   type="InvalidModelOutput", non_retryable=True)
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
    def _script(text: str, plan: Plan) -> Script:
        script: Script = parse_answer(text, Script, "script")
        want = [s.id for s in plan.scenes]
        got = [s.id for s in script.scenes]
        if got != want:
            raise ApplicationError(f"the script answer has scenes {got}, the plan has {want}",
                                   type="InvalidModelOutput", non_retryable=True)
        return script
