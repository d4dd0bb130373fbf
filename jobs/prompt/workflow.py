"""The prompt job's per-topic workflow: answer (LLM) -> write. Sandbox-safe."""

from __future__ import annotations

from typing import Any

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from jobs.prompt.types import (
        MAX_REASKS,
        STEPS,
        WRITE_ACTIVITY,
        PromptOptions,
        PromptOutputs,
        WriteInput,
        WriteOutput,
    )
    from runner.contract.llm import LLMRequest, Message
    from runner.contract.types import TopicInput, TopicOutcome
    from runner.workflow import gateway
    from runner.workflow.steps import StepLog
    from runner.workflow.topic import TopicWorkflow

PROMPT_WORKFLOW = "prompt.topic"
TEXT_FORMAT = "prompt.text.v1"
JSON_FORMAT = "prompt.json.v1"
JSON_INSTRUCTION = "Answer with one JSON value only: no prose, no code fence."


def first_request(opts: PromptOptions, topic: str) -> LLMRequest:
    """The request a topic's first answer is asked with."""
    wants_json = opts.output == "json"
    system = "\n\n".join(s for s in (
        opts.system, JSON_INSTRUCTION if wants_json else "",
        f"FORMAT: {JSON_FORMAT if wants_json else TEXT_FORMAT}") if s)
    return LLMRequest(system=system, messages=[Message(role="user", content=opts.prompt.replace(
        "{topic}", topic))], max_tokens=opts.max_tokens, temperature=opts.temperature)


@workflow.defn(name=PROMPT_WORKFLOW)
class PromptWorkflow(TopicWorkflow):
    """One topic in, one answer file out."""

    steps = STEPS
    outputs_type = PromptOutputs

    @workflow.run
    async def run(self, inp: TopicInput) -> TopicOutcome:
        return await self.execute(inp, self.pipeline)

    async def pipeline(self, inp: TopicInput, log: StepLog, outputs: PromptOutputs) -> None:
        """answer (re-asked while the JSON is invalid) -> write."""
        opts = self.options(PromptOptions, inp)
        wants_json = opts.output == "json"
        request = first_request(opts, inp.spec.topic)
        messages = request.messages
        data: Any = None
        for ask in range(MAX_REASKS + 1):
            name = "answer" if ask == 0 else f"answer (re-ask {ask})"
            answer = await gateway.complete(
                log, name, request.model_copy(update={"messages": messages}),
                inp.spec.models["answer"], task_queue=inp.task_queue, models_out=self.models_out)
            if not wants_json:
                break
            try:
                data = gateway.json_answer(answer.text)
                break
            except ValueError as exc:
                log.reject(name, f"invalid JSON: {exc}")
                if ask == MAX_REASKS:
                    raise ApplicationError(f"no valid JSON after {MAX_REASKS + 1} answers: {exc}",
                                           type="InvalidModelOutput", non_retryable=True) from exc
                messages = [*messages, Message(role="assistant", content=answer.text),
                            Message(role="user", content=f"That is not valid JSON ({exc}). "
                                    f"{JSON_INSTRUCTION}")]
        suffix = "json" if wants_json else "md"
        written = await log.run(
            "write", WRITE_ACTIVITY,
            WriteInput(path=f"{inp.output_dir}/{inp.spec.id}.{suffix}",
                       text=None if wants_json else answer.text, data=data),
            result_type=WriteOutput, task_queue=inp.task_queue)
        outputs.output = written.path
