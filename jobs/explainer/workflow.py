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
        LLM_STEPS,
        MERGE_ACTIVITY,
        RENDER_ACTIVITY,
        STEP_POLICIES,
        STEPS,
        VALIDATE_ACTIVITY,
        ExplainerOptions,
        MergeInput,
        MergeOutput,
        Plan,
        RenderInput,
        RenderOutput,
        Script,
        ValidateInput,
        ValidateOutput,
    )
    from runner.llm import gateway
    from runner.steps import StepLog
    from runner.topic import TopicWorkflow
    from runner.types import TopicInput, TopicOutcome

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
    llm_steps = LLM_STEPS
    step_policies = STEP_POLICIES

    @workflow.run
    async def run(self, inp: TopicInput) -> TopicOutcome:
        return await self.execute(inp, self.pipeline)

    async def pipeline(self, inp: TopicInput, log: StepLog, outputs: dict[str, Any]) -> None:
        """decompose -> script -> validate -> render -> merge; ``outputs`` collects what the report shows."""
        queue = inp.task_queue
        options = self.options(ExplainerOptions, inp)
        outputs["quality"] = options.quality
        answer = await gateway.complete(log, "decompose", prompts.decompose_request(inp.spec.topic),
                                        inp.spec.models["decompose"], task_queue=queue,
                                        models_out=self.models_out)
        plan: Plan = self._checked(log, lambda: parse_answer(answer.text, Plan, "decompose"))
        outputs["title"] = plan.title
        outputs["scenes"] = [s.title for s in plan.scenes]

        answer = await gateway.complete(log, "script", prompts.script_request(inp.spec.topic, plan),
                                        inp.spec.models["script"], task_queue=queue,
                                        models_out=self.models_out)
        script: Script = self._checked(log, lambda: self._script(answer.text, plan))

        checked = await log.run("validate", VALIDATE_ACTIVITY,
                                ValidateInput(topic_dir=inp.topic_dir, script=script),
                                result_type=ValidateOutput, task_queue=queue)
        outputs["claims"] = [c.model_dump() for c in checked.claims]
        refuted = [c for c in checked.claims if c.status == "refuted"]
        if refuted:
            log.records[-1].status = "failed"
            raise ApplicationError(
                f"{len(refuted)} claim(s) refuted, e.g. {refuted[0].claim} ({refuted[0].detail})",
                type="ClaimRefuted", non_retryable=True)

        rendered = await log.run(
            "render", RENDER_ACTIVITY,
            RenderInput(topic_dir=inp.topic_dir, scenes=checked.scenes, quality=options.quality),
            result_type=RenderOutput, task_queue=queue)
        outputs["scene_videos"] = rendered.videos

        merged = await log.run(
            "merge", MERGE_ACTIVITY,
            MergeInput(videos=rendered.videos, output=f"{inp.output_dir}/{inp.spec.id}.mp4"),
            result_type=MergeOutput, task_queue=queue)
        outputs.update(video=merged.video, duration_s=merged.duration_s,
                       resolution=f"{merged.width}x{merged.height}", codec=merged.codec)

    @staticmethod
    def _checked(log: StepLog, parse: Any) -> Any:
        """Run ``parse`` on the last step's answer; a bad answer fails that step."""
        try:
            return parse()
        except ApplicationError as err:
            record = log.records[-1]
            record.status = "failed"
            record.error = err.message
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
