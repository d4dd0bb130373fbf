"""Activity side of batch delivery (see :mod:`runner.contract.delivery`): queue a call, submit a
window of calls as one provider batch, poll it, and send each answer to its topic.

The providers' batch APIs are in :mod:`runner.activity.llm.provider_batches` (Anthropic's Message
Batches, OpenAI's Batch API through litellm); a model with none here has its calls answered at once
(realtime) by the enqueue activity. Requests and windows are
files under the batch's folder, so that the parent workflow keeps only ids: a window's file records
its provider batch before the submit activity returns, and a retried submit finds it there instead
of creating a second batch.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

from temporalio import activity
from temporalio.service import RPCError

from runner.activity.llm.activity import LLMActivities
from runner.activity.llm.budget import Cost, hold, settle
from runner.activity.llm.pacing import estimate_input_tokens
from runner.activity.llm.provider_batches import BatchAPI, Result, batch_api
from runner.activity.llm.providers import cost_usd
from runner.config.catalog import ModelSpec, has_batch_api
from runner.contract.delivery import (
    ANSWER_SIGNAL,
    CALL_SIGNAL,
    CANCEL_ACTIVITY,
    COLLECT_ACTIVITY,
    DELIVERY_DIR,
    ENQUEUE_ACTIVITY,
    POLL_ACTIVITY,
    SUBMIT_ACTIVITY,
    Collected,
    Gathered,
    Polled,
    Window,
    WindowInput,
)
from runner.contract.errors import PermanentStepError
from runner.contract.llm import BatchedCall, BudgetRef, Delivered, Enqueued, LLMRequest, LLMResponse, Usage
from runner.store.artifacts import join, store_for

log = logging.getLogger(__name__)
SIGNALS_AT_ONCE = 50


BEAT_S = 5.0  # how often the delivery activities heartbeat (their heartbeat timeout is 30 s)


@contextlib.asynccontextmanager
async def beating() -> AsyncIterator[None]:
    """Heartbeat every BEAT_S while the block runs (its awaits may be one long call: an upload, a
    provider batch's results), so that a dead worker's attempt is retried within the heartbeat
    timeout, not its start-to-close timeout."""
    async def beat() -> None:
        while True:
            activity.heartbeat()
            await asyncio.sleep(BEAT_S)

    task = asyncio.create_task(beat())
    try:
        yield
    finally:
        task.cancel()


def request_path(folder: str, custom_id: str) -> str:
    return join(folder, DELIVERY_DIR, "requests", f"{custom_id}.json")


def window_path(folder: str, window: str) -> str:
    return join(folder, DELIVERY_DIR, "windows", f"{window}.json")


def _read(path: str) -> Any:
    return json.loads(store_for(path).read_text(path))


def _write(path: str, data: Any) -> None:
    from runner.store.files import write_json_atomic

    write_json_atomic(path, data)


class BatchActivities:
    """The batch-delivery activities, beside a worker's LLM activities (its catalog, its clients)."""

    def __init__(self, llm: LLMActivities) -> None:
        self.llm = llm

    @activity.defn(name=ENQUEUE_ACTIVITY)
    async def enqueue(self, inp: BatchedCall) -> Enqueued:
        """See :meth:`_enqueue` (heartbeating: it may wait for room in a budget)."""
        async with beating():
            return await self._enqueue(inp)

    async def _enqueue(self, inp: BatchedCall) -> Enqueued:
        """Queue one call for its model's next provider batch (its request written to the batch's
        folder, its id signalled to the batch), or answer it now: from the step cache, or, for a
        model with no batch API here, realtime."""
        call = inp.call
        spec = self.llm.spec(call.model)
        if not has_batch_api(spec):
            return Enqueued(answer=await self.llm.complete(call))
        key = self.llm.cache_key(spec, call) if call.cache is not None else None
        if key is not None and not call.refresh and (hit := await self.llm.cached(call, key)) is not None:
            hit.attempt = activity.info().attempt
            return Enqueued(answer=hit)
        self.llm.key_for(call.model, spec)  # no key on this worker: fail now, not in the window
        grant = None
        if call.budget is not None:  # room held now, the cost told when the provider batch answers:
            # as much as the call can cost (its input, and max_tokens of output)
            tokens_in, tokens_out = estimate_input_tokens(call.request), call.request.max_tokens
            price = spec.price
            usd = ((tokens_in * price.input_per_mtok + tokens_out * price.output_per_mtok)
                   * (1 - price.batch_discount) / 1e6) if price else 0.0
            grant = await hold(call.budget, call.model, usd=usd, tokens=tokens_in + tokens_out, upper=True)
        await asyncio.to_thread(_write, request_path(inp.folder, inp.custom_id), {
            "custom_id": inp.custom_id, "model": call.model, "reply_to": inp.reply_to,
            "cache_key": key, "request": call.request.model_dump(mode="json"),
            "budget": call.budget.model_dump(mode="json") if call.budget else None, "grant": grant})
        await activity.client().get_workflow_handle(inp.batch).signal(
            CALL_SIGNAL, Gathered(custom_id=inp.custom_id, model=call.model))
        return Enqueued()

    @activity.defn(name=SUBMIT_ACTIVITY)
    async def submit(self, inp: WindowInput) -> Window:
        """See :meth:`_submit` (heartbeating)."""
        async with beating():
            return await self._submit(inp)

    async def _submit(self, inp: WindowInput) -> Window:
        """Submit a window of calls as one provider batch, once: a window whose file already names
        its batch (a retried attempt) returns it."""
        path = window_path(inp.folder, inp.window)
        if store_for(path).is_file(path):
            done = await asyncio.to_thread(_read, path)
            if done.get("provider_batch"):
                return Window.model_validate({k: done[k] for k in Window.model_fields if k in done})
        requests = []
        for cid in inp.custom_ids:
            entry = await asyncio.to_thread(_read, request_path(inp.folder, cid))
            requests.append((cid, LLMRequest.model_validate(entry["request"])))
        batch_id = await self._api(inp.model).create(requests, inp.window)
        window = Window(window=inp.window, model=inp.model, provider_batch=batch_id, manifest=path,
                        requests=len(requests), submitted_at=datetime.now(UTC).isoformat(),
                        resubmitted=inp.resubmit)
        await asyncio.to_thread(_write, path, {**window.model_dump(mode="json"),
                                               "custom_ids": inp.custom_ids})
        activity.logger.info("window %s: %d calls of %s in provider batch %s", inp.window,
                             len(requests), inp.model, batch_id)
        return window

    @activity.defn(name=POLL_ACTIVITY)
    async def poll(self, window: Window) -> Polled:
        """Where a provider batch stands."""
        return await self._api(window.model).poll(window.provider_batch)

    @activity.defn(name=COLLECT_ACTIVITY)
    async def collect(self, window: Window) -> Collected:
        """See :meth:`_collect` (heartbeating)."""
        async with beating():
            return await self._collect(window)

    async def _collect(self, window: Window) -> Collected:
        """Send each result of an ended provider batch to its topic: an answer (priced with the
        batch discount), or an error. Expired calls are sent as errors only if the window was
        resubmitted already; otherwise they are returned, for the parent to resubmit once."""
        spec = self.llm.spec(window.model)
        api = self._api(window.model)
        manifest = await asyncio.to_thread(_read, window.manifest)
        folder = window.manifest.rsplit(f"/{DELIVERY_DIR}/", 1)[0]
        out = Collected()
        sends: list[tuple[str, Delivered]] = []
        async for result in api.results(window.provider_batch):
            cid, kind = result.custom_id, result.kind
            if kind == "expired" and not window.resubmitted:
                out.expired.append(cid)
                continue
            entry = await asyncio.to_thread(_read, request_path(folder, cid))
            if kind == "succeeded":
                out.succeeded += 1
                delivered = Delivered(custom_id=cid, provider_batch=window.provider_batch,
                                      answer=self._answer(spec, window.model, result, entry.get("cache_key")))
            else:
                out.errored += 1
                delivered = Delivered(custom_id=cid, provider_batch=window.provider_batch,
                                      error=f"provider batch {window.provider_batch}: {kind}: {result.error}")
            sends.append((entry["reply_to"], delivered))
            if entry.get("budget") and entry.get("grant") and not entry.get("settled"):
                # the batch's budget hears what it cost, once (a retried collect skips it)
                answer = delivered.answer
                await settle(BudgetRef.model_validate(entry["budget"]), entry["grant"], Cost(
                    usd=answer.cost_usd if answer else 0.0, answered=answer is not None,
                    tokens=answer.usage.input_tokens + answer.usage.output_tokens if answer else 0))
                await asyncio.to_thread(_write, request_path(folder, cid), {**entry, "settled": True})
            if len(sends) >= SIGNALS_AT_ONCE:
                await self._send(sends)
                sends = []
        await self._send(sends)
        manifest.update(state="collected", succeeded=out.succeeded, errored=out.errored,
                        expired=len(out.expired))
        await asyncio.to_thread(_write, window.manifest, manifest)
        return out

    @activity.defn(name=CANCEL_ACTIVITY)
    async def cancel(self, window: Window) -> None:
        """Ask the provider to stop a provider batch (the batch was cancelled)."""
        await self._api(window.model).cancel(window.provider_batch)
        activity.logger.info("provider batch %s of window %s: cancel asked", window.provider_batch,
                             window.window)

    def _api(self, model: str) -> BatchAPI:
        spec = self.llm.spec(model)
        api = batch_api(self.llm.providers, spec, self.llm.key_for(model, spec))
        if api is None:
            raise PermanentStepError(f"model {model!r} ({spec.provider}) has no batch API here")
        return api

    @staticmethod
    def _answer(spec: ModelSpec, model: str, result: Result, key: str | None) -> LLMResponse:
        usage = result.usage or Usage()
        full = cost_usd(spec, usage)
        discount = spec.price.batch_discount if spec.price else 0.5
        return LLMResponse(text=result.text, model=model, provider=spec.provider,
                           provider_model=result.provider_model, usage=usage,
                           cost_usd=None if full is None else round(full * (1 - discount), 6),
                           list_cost_usd=full, cache_key=key)

    @staticmethod
    async def _send(sends: list[tuple[str, Delivered]]) -> None:
        """Signal each answer to its topic, together (a topic that has ended is skipped)."""
        client = activity.client()

        async def one(workflow_id: str, delivered: Delivered) -> None:
            try:
                await client.get_workflow_handle(workflow_id).signal(ANSWER_SIGNAL, delivered)
            except RPCError as exc:  # the topic ended (cancelled, terminated): nobody to tell
                log.warning("could not send %s its answer: %s", workflow_id, exc)

        await asyncio.gather(*(one(w, d) for w, d in sends))

    def activities(self) -> list[object]:
        return [self.enqueue, self.submit, self.poll, self.collect, self.cancel]
