"""Workflow side of the LLM gateway: call a step's model chain and return the first answer.

The workflow calls one function and gets text back; which model answered, and how many attempts each
model took, goes into the step's record. Sandbox-safe.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar, cast

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError, is_cancelled_exception

from runner.contract.budget import BUDGET_EXHAUSTED
from runner.contract.delivery import ENQUEUE_ACTIVITY, custom_id
from runner.contract.errors import failure_message
from runner.contract.jobkind import base_step
from runner.contract.keys import input_key
from runner.contract.llm import (
    BatchedCall,
    BudgetRef,
    Enqueued,
    LLMCall,
    LLMRequest,
    LLMResponse,
    SpeechCall,
    SpeechRequest,
    SpeechResponse,
)
from runner.contract.names import (
    LLM_ACTIVITY,
    MODEL_OUT_SIGNAL,
    QUOTA_EXHAUSTED,
    SPEECH_ACTIVITY,
    batch_task_queue,
    llm_task_queue,
)
from runner.contract.policy import retry_policy
from runner.contract.types import ModelAttempt, StepRecord
from runner.workflow.steps import StepLog, failed_attempts

# A batch-delivered call waits this long for its answer (a provider batch takes up to 24 hours).
ANSWER_WITHIN = timedelta(hours=26)
ENQUEUE_HEARTBEAT = timedelta(seconds=30)  # (it heartbeats every 5 s: a dead worker's is soon retried)


class ModelsOut:
    """Models whose quota or spend limit ran out: not called again in this batch. A topic that finds
    one tells the parent (signal ``model_out``), which tells the topics running and hands the list to
    those it starts later."""

    def __init__(self, names: list[str] | None = None) -> None:
        self.names: set[str] = set(names or ())

    async def mark(self, name: str) -> None:
        """``name`` is out: remember it, and tell the parent workflow (if any)."""
        if name in self.names:
            return
        self.names.add(name)
        parent = workflow.info().parent
        if parent is not None:
            await workflow.get_external_workflow_handle(parent.workflow_id).signal(MODEL_OUT_SIGNAL, name)


async def complete(
    log: StepLog, step: str, request: LLMRequest, chain: list[str], *, task_queue: str,
    models_out: ModelsOut | None = None,
) -> LLMResponse:
    """Run LLM step ``step``: try each model of ``chain`` in order until one answers. Models in
    ``models_out`` are skipped; a model whose quota runs out is added to it. Each model's call runs
    with the step's policy (timeout and retries per model). An answer kept from an earlier run of the
    topic (``runner retry``) for the same request and chain is reused without a call.

    Raises:
        ApplicationError: every model of the chain failed (non-retryable: each already had its retries).
        asyncio.CancelledError: the topic was cancelled.
    """
    def describe(answer: LLMResponse, detail: dict[str, Any]) -> None:
        detail["usage"] = answer.usage.model_dump()
        detail["cost_usd"] = answer.cost_usd
        if answer.list_cost_usd is not None:  # from a provider batch, at its discount
            detail["list_cost_usd"] = answer.list_cost_usd

    return await _first_answer(
        log, step, input_key(request, chain), chain, LLM_ACTIVITY,
        lambda name: LLMCall(model=name, request=request, cache=log.cache, refresh=log.refresh,
                             budget=_budget(log, step)),
        LLMResponse, describe, task_queue=task_queue, models_out=models_out)


async def speak(
    log: StepLog, step: str, request: SpeechRequest, chain: list[str], *, task_queue: str,
    models_out: ModelsOut | None = None,
) -> SpeechResponse:
    """Run speech step ``step`` like :func:`complete` runs an LLM step: each model of ``chain`` on
    its own task queue (its rate limit), with the step's policy, until one speaks the text into
    ``request.output``.

    Raises:
        ApplicationError: every model of the chain failed.
        asyncio.CancelledError: the topic was cancelled.
    """
    def describe(answer: SpeechResponse, detail: dict[str, Any]) -> None:
        detail.update(characters=answer.characters, audio_s=round(answer.duration_s, 3),
                      cost_usd=answer.cost_usd)

    return await _first_answer(
        log, step, input_key(request, chain), chain, SPEECH_ACTIVITY,
        lambda name: SpeechCall(model=name, request=request, cache=log.cache, refresh=log.refresh,
                                budget=_budget(log, step)),
        SpeechResponse, describe,
        task_queue=task_queue, models_out=models_out)


A = TypeVar("A", LLMResponse, SpeechResponse)


def _budget(log: StepLog, step: str) -> BudgetRef | None:
    """Whom the step's calls ask for room (None: the batch has no budget)."""
    if log.budget is None:
        return None
    batch, index = log.budget
    return BudgetRef(batch=batch, index=index, step=base_step(step))


async def _first_answer(
    log: StepLog, step: str, key: str, chain: list[str], activity: str, call: Callable[[str], Any],
    result_type: type[A], describe: Callable[[A, dict[str, Any]], None], *, task_queue: str,
    models_out: ModelsOut | None,
) -> A:
    """The first answer of ``chain``'s models to ``activity``'s ``call(model)`` (see
    :func:`complete`), recorded in step ``step``."""
    reused = log.reuse(step, key, result_type)
    if reused is not None:
        return reused
    policy = log.policy(step)
    retry = retry_policy(policy)
    record = log.begin(step)
    for name in chain:
        if models_out is not None and name in models_out.names:
            record.models_tried.append(ModelAttempt(model=name, attempts=0, outcome="skipped",
                                                    error="quota ran out earlier in this batch"))
            continue
        log.trying = name
        try:
            answer: A
            if activity == LLM_ACTIVITY and log.batch_of and base_step(step) in log.batched:
                answer = cast(Any, await _by_batch(log, step, call(name), record, task_queue=task_queue))
            else:
                answer = await workflow.execute_activity(
                    activity,
                    call(name),
                    result_type=result_type,
                    task_queue=llm_task_queue(task_queue, name),
                    start_to_close_timeout=timedelta(seconds=policy.timeout_s),
                    retry_policy=retry,
                )
        except _BatchFailed as err:  # every attempt's provider batch said no: the next model
            record.models_tried.append(ModelAttempt(model=name, attempts=err.attempts, outcome="failed",
                                                    error=str(err)))
            continue
        except asyncio.CancelledError as err:
            log.end(record, error=err)
            raise
        except ActivityError as err:
            if is_cancelled_exception(err):
                log.end(record, error=err)
                raise
            if _error_type(err) == BUDGET_EXHAUSTED:  # no call starts once the budget is spent
                record.models_tried.append(ModelAttempt(model=name, attempts=0, outcome="skipped",
                                                        error=failure_message(err)))
                error = ApplicationError(f"{step}: {failure_message(err)}", type=BUDGET_EXHAUSTED,
                                         non_retryable=True)
                log.end(record, error=error)
                raise error from None
            record.models_tried.append(
                ModelAttempt(model=name, attempts=failed_attempts(err, retry),
                             outcome="failed", error=failure_message(err))
            )
            if models_out is not None and _error_type(err) == QUOTA_EXHAUSTED:
                await models_out.mark(name)
            if name != chain[-1]:  # (the workflow's meter: nothing is recorded while a history replays)
                workflow.metric_meter().create_counter(
                    "runner_llm_fallbacks", "a chain's model failed for good; the next one is asked"
                ).add(1, {"step": base_step(step), "model": name})
            continue
        record.model = answer.model
        if answer.cache_key:
            record.detail["cache_key"] = answer.cache_key
        if answer.cached_from is not None:  # the step cache's: no call was made
            record.models_tried.append(ModelAttempt(model=name, attempts=0, outcome="cached"))
            record.detail["cached_from"] = answer.cached_from
        else:
            record.models_tried.append(ModelAttempt(model=name, attempts=answer.attempt,
                                                    outcome="answered"))
            describe(answer, record.detail)
        record.attempts = sum(m.attempts or 0 for m in record.models_tried) or None
        log.end(record)
        log.keep(step, key, answer, model=answer.model)
        return answer
    error = ApplicationError(
        f"{step}: every model failed ({', '.join(chain)}); last error: "
        f"{record.models_tried[-1].error if record.models_tried else 'none'}",
        type="ModelChainExhausted",
        non_retryable=True,
    )
    log.end(record, error=error)
    raise error


class _BatchFailed(Exception):
    def __init__(self, attempts: int, error: str) -> None:
        super().__init__(error)
        self.attempts = attempts


async def _by_batch(log: StepLog, step: str, call: LLMCall, record: StepRecord, *,
                    task_queue: str) -> LLMResponse:
    """``call`` through the batch's provider batches: queued (the enqueue activity), then its answer
    awaited by signal. A call whose provider batch answered with an error is queued again, up to
    the step's attempts (each in a later window).

    Raises:
        _BatchFailed: every attempt came back errored (or none came back within ANSWER_WITHIN).
        ActivityError: the enqueue activity failed for good (e.g. no key for the model).
    """
    assert log.batch_of is not None
    batch, folder = log.batch_of
    policy = log.policy(step)
    retry = retry_policy(policy)
    me = workflow.info().workflow_id
    attempts = retry.maximum_attempts or 5
    error = "no attempt"
    for attempt in range(1, attempts + 1):
        cid = custom_id(me, step, call.model, attempt)
        queued = await workflow.execute_activity(
            ENQUEUE_ACTIVITY, BatchedCall(call=call, custom_id=cid, batch=batch, reply_to=me, folder=folder),
            result_type=Enqueued, task_queue=batch_task_queue(task_queue),
            # (it may wait long for room in a budget: it heartbeats, so a dead worker's is retried soon)
            start_to_close_timeout=ANSWER_WITHIN, heartbeat_timeout=ENQUEUE_HEARTBEAT, retry_policy=retry)
        if queued.answer is not None:  # the step cache's, or a realtime model's
            return cast(LLMResponse, queued.answer)
        record.detail["delivery"] = "batch"
        try:
            await workflow.wait_condition(_arrived(log, cid), timeout=ANSWER_WITHIN)
        except TimeoutError:
            error = f"no answer from its provider batch within {ANSWER_WITHIN}"
            continue
        got = log.mailbox.pop(cid)
        record.detail["provider_batch"] = got.provider_batch
        if got.answer is not None:
            got.answer.attempt = attempt
            return got.answer
        error = got.error or "errored"
    raise _BatchFailed(attempts, f"{attempts} batch attempt(s) failed; last: {error}")


def _arrived(log: StepLog, cid: str) -> Callable[[], bool]:
    return lambda: cid in log.mailbox


def _error_type(err: ActivityError) -> str | None:
    return err.cause.type if isinstance(err.cause, ApplicationError) else None


def json_answer(text: str) -> Any:
    """Parse an LLM's JSON answer, tolerating a Markdown code fence around it.

    Raises:
        ValueError: not JSON (``json.JSONDecodeError`` is one).
    """
    body = text.strip()
    if body.startswith("```"):
        body = body.split("\n", 1)[1] if "\n" in body else ""
        body = body.rsplit("```", 1)[0]
    try:
        return json.loads(body, parse_constant=_no_constants)
    except RecursionError as exc:  # absurdly deep nesting: invalid for our purposes, not a crash
        raise ValueError("JSON nested too deeply") from exc


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")
