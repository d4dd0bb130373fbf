"""The prompt job's per-topic workflow: answer (LLM) -> write. Sandbox-safe."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from pydantic import ValidationError

    from jobs.prompt.types import MAX_REASKS, STEPS, WRITE_ACTIVITY, PromptOptions, WriteInput, WriteOutput
    from runner.llm import gateway
    from runner.llm.types import LLMRequest, Message
    from runner.steps import StepLog
    from runner.topic import finish
    from runner.types import TopicInput, TopicOutcome, TopicProgress

PROMPT_WORKFLOW = "prompt.topic"
TEXT_FORMAT = "prompt.text.v1"
JSON_FORMAT = "prompt.json.v1"
JSON_INSTRUCTION = "Answer with one JSON value only: no prose, no code fence."


def parse_json(text: str) -> Any:
    """Parse a JSON answer, tolerating a ```json fence; raises ValueError with the reason."""
    body = text.strip()
    if body.startswith("```"):
        body = body.split("\n", 1)[1] if "\n" in body else ""
        body = body.rsplit("```", 1)[0]
    return json.loads(body)


@workflow.defn(name=PROMPT_WORKFLOW)
class PromptWorkflow:
    """One topic in, one answer file out."""

    def __init__(self) -> None:
        self.log: StepLog | None = None

    @workflow.run
    async def run(self, inp: TopicInput) -> TopicOutcome:
        log = self.log = StepLog(inp.spec.id, list(STEPS))
        outputs: dict[str, Any] = {}
        try:
            try:
                opts = PromptOptions.model_validate(inp.spec.params)
            except ValidationError as exc:
                raise ApplicationError(f"bad topic options: {exc}", type="BadInput",
                                       non_retryable=True) from exc
            wants_json = opts.output == "json"
            system = "\n\n".join(s for s in (
                opts.system, JSON_INSTRUCTION if wants_json else "",
                f"FORMAT: {JSON_FORMAT if wants_json else TEXT_FORMAT}") if s)
            messages = [Message(role="user", content=opts.prompt.replace("{topic}", inp.spec.topic))]
            data: Any = None
            for ask in range(MAX_REASKS + 1):
                name = "answer" if ask == 0 else f"answer (re-ask {ask})"
                answer = await gateway.complete(
                    log, name, LLMRequest(system=system, messages=messages,
                                          max_tokens=opts.max_tokens, temperature=opts.temperature),
                    inp.spec.models["answer"], task_queue=inp.task_queue)
                if not wants_json:
                    break
                try:
                    data = parse_json(answer.text)
                    break
                except ValueError as exc:
                    log.records[-1].status = "failed"
                    log.records[-1].error = f"invalid JSON: {exc}"
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
                result_type=WriteOutput, task_queue=inp.task_queue, timeout=timedelta(minutes=1))
            outputs["output"] = written.path
        except (ActivityError, ApplicationError) as err:
            return await finish(inp, log, outputs, err)
        return await finish(inp, log, outputs)

    @workflow.query
    def progress(self) -> TopicProgress:
        """Current step of this topic."""
        if self.log is None:
            return TopicProgress(id="", step=None, steps_done=0, steps_total=len(STEPS))
        return self.log.progress()
