"""The tally kind's per-topic workflow: count (LLM) -> write."""

from __future__ import annotations

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from runner.contract.llm import LLMRequest, Message
    from runner.contract.types import TopicInput, TopicOutcome
    from runner.workflow import gateway
    from runner.workflow.steps import StepLog
    from runner.workflow.topic import TopicWorkflow
    from tally.types import FORMAT, STEPS, WRITE_ACTIVITY, TallyOptions, TallyOutputs, WriteInput, WriteOutput


@workflow.defn(name="tally.topic")
class TallyWorkflow(TopicWorkflow):
    steps = STEPS
    outputs_type = TallyOutputs

    @workflow.run
    async def run(self, inp: TopicInput) -> TopicOutcome:
        return await self.execute(inp, self.pipeline)

    async def pipeline(self, inp: TopicInput, log: StepLog, outputs: TallyOutputs) -> None:
        options = self.options(TallyOptions, inp)
        outputs.unit = options.unit
        request = LLMRequest(system=f"Answer with the number of words only.\nFORMAT: {FORMAT}",
                             messages=[Message(role="user", content=f"Topic: {inp.spec.topic}")])
        answer = await gateway.complete(log, "count", request, inp.spec.models["count"],
                                        task_queue=inp.task_queue, models_out=self.models_out)
        if not answer.text.strip().isdigit():
            log.reject("count", f"not a number: {answer.text[:50]!r}")
            raise ApplicationError("the count is not a number", type="InvalidModelOutput",
                                   non_retryable=True)
        outputs.count = int(answer.text)
        written = await log.run(
            "write", WRITE_ACTIVITY,
            WriteInput(path=f"{inp.output_dir}/{inp.spec.id}.json", topic=inp.spec.topic,
                       count=outputs.count, refuse=options.refuse),
            result_type=WriteOutput, task_queue=inp.task_queue)
        outputs.file = written.path
