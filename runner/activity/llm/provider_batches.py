"""The providers' batch APIs behind one shape (create, poll, results), for batch delivery:

* Anthropic's Message Batches, through the official SDK (``client.messages.batches``);
* OpenAI's Batch API (a JSONL file uploaded, a batch of it created), through litellm's file and batch
  functions, for a litellm model of the ``openai/`` provider (OpenAI itself, or a server that speaks
  its API at ``base_url``).

Any other model has no batch API here (:func:`batch_api` gives None): its calls go realtime.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from runner.activity.llm.providers import Providers, anthropic_params, anthropic_usage
from runner.config.catalog import ModelSpec, has_batch_api
from runner.contract.delivery import Polled
from runner.contract.llm import LLMRequest, Usage

OPENAI_ENDPOINT = "/v1/chat/completions"
OPENAI_ENDED = ("completed", "failed", "expired", "cancelled")


@dataclass
class Result:
    """One request's result, whatever the provider: ``kind`` is succeeded, errored, expired or
    canceled."""

    custom_id: str
    kind: str
    text: str = ""
    usage: Usage | None = None
    provider_model: str = ""
    error: str = ""


class BatchAPI(Protocol):
    """``create`` submits a window's requests as one provider batch (its id); ``poll`` says where
    it stands; ``results`` gives each request's result once it has ended; ``cancel`` asks the
    provider to stop it (requests not yet processed are not paid)."""

    async def create(self, requests: list[tuple[str, LLMRequest]], window: str) -> str: ...

    async def poll(self, batch_id: str) -> Polled: ...

    def results(self, batch_id: str) -> AsyncIterator[Result]: ...

    async def cancel(self, batch_id: str) -> None: ...


def batch_api(providers: Providers, spec: ModelSpec, key: str | None) -> BatchAPI | None:
    """``spec``'s batch API, or None (no batch API here: its calls go realtime)."""
    if not has_batch_api(spec):
        return None
    if spec.provider == "anthropic":
        return AnthropicBatches(providers, spec, key)
    return OpenAIBatches(spec, key)


class AnthropicBatches:
    def __init__(self, providers: Providers, spec: ModelSpec, key: str | None) -> None:
        self.spec = spec
        self.client = providers.anthropic_client(spec, key)

    async def create(self, requests: list[tuple[str, LLMRequest]], window: str) -> str:
        batch = await self.client.messages.batches.create(requests=[
            {"custom_id": cid, "params": anthropic_params(self.spec, request)} for cid, request in requests])
        return str(batch.id)

    async def poll(self, batch_id: str) -> Polled:
        batch = await self.client.messages.batches.retrieve(batch_id)
        c = batch.request_counts
        return Polled(state=batch.processing_status, counts={
            "processing": c.processing, "succeeded": c.succeeded, "errored": c.errored,
            "canceled": c.canceled, "expired": c.expired})

    async def cancel(self, batch_id: str) -> None:
        await self.client.messages.batches.cancel(batch_id)

    async def results(self, batch_id: str) -> AsyncIterator[Result]:
        async for r in await self.client.messages.batches.results(batch_id):
            kind = r.result.type
            if kind == "succeeded":
                message = r.result.message
                yield Result(r.custom_id, kind, text="".join(getattr(b, "text", "") for b in message.content),
                             usage=anthropic_usage(message.usage), provider_model=message.model)
            else:
                error = getattr(getattr(r.result, "error", None), "error", None)
                yield Result(r.custom_id, kind, error=getattr(error, "message", None) or kind)


class OpenAIBatches:
    def __init__(self, spec: ModelSpec, key: str | None) -> None:
        self.spec = spec
        self.model = spec.model.split("/", 1)[1]
        self.kw: dict[str, Any] = {"custom_llm_provider": "openai", "api_base": spec.base_url,
                                   "api_key": key}

    async def create(self, requests: list[tuple[str, LLMRequest]], window: str) -> str:
        """Upload the window's requests and batch them, once: a batch the provider already holds for
        this window (an attempt that died after creating it) is returned instead (its metadata
        names the window)."""
        import litellm

        listed = await litellm.alist_batches(limit=100, **self.kw)
        for batch in getattr(listed, "data", None) or []:
            if (getattr(batch, "metadata", None) or {}).get("runner_window") == window:
                return str(batch.id)
        lines = []
        for cid, request in requests:
            messages = [{"role": "system", "content": request.system}] if request.system else []
            messages += [{"role": m.role, "content": m.content} for m in request.messages]
            lines.append(json.dumps({"custom_id": cid, "method": "POST", "url": OPENAI_ENDPOINT, "body": {
                "model": self.model, "messages": messages, "max_tokens": request.max_tokens,
                "temperature": request.temperature}}))
        with tempfile.TemporaryDirectory(prefix="runner-batch-") as tmp:
            path = Path(tmp) / f"{window}.jsonl"
            path.write_text("\n".join(lines) + "\n")
            with path.open("rb") as f:
                uploaded = await litellm.acreate_file(file=f, purpose="batch", **self.kw)
        batch = await litellm.acreate_batch(completion_window="24h", endpoint=OPENAI_ENDPOINT,
                                            input_file_id=uploaded.id, metadata={"runner_window": window},
                                            **self.kw)
        return str(batch.id)

    async def poll(self, batch_id: str) -> Polled:
        import litellm

        batch = await litellm.aretrieve_batch(batch_id=batch_id, **self.kw)
        c = batch.request_counts
        counts = {"total": c.total, "completed": c.completed, "failed": c.failed} if c else {}
        if batch.status in OPENAI_ENDED:
            return Polled(state="ended", counts=counts)
        return Polled(state="canceling" if batch.status == "cancelling" else "in_progress", counts=counts)

    async def cancel(self, batch_id: str) -> None:
        import litellm

        await litellm.acancel_batch(batch_id=batch_id, **self.kw)

    async def results(self, batch_id: str) -> AsyncIterator[Result]:
        import litellm

        batch = await litellm.aretrieve_batch(batch_id=batch_id, **self.kw)
        for file_id in (batch.output_file_id, batch.error_file_id):
            if not file_id:
                continue
            content = await litellm.afile_content(file_id=file_id, **self.kw)
            for line in content.content.decode().splitlines():
                if line.strip():
                    yield self._result(json.loads(line))

    @staticmethod
    def _result(line: dict[str, Any]) -> Result:
        cid = str(line.get("custom_id"))
        error = line.get("error") or {}
        if error:
            kind = "expired" if error.get("code") == "batch_expired" else "errored"
            return Result(cid, kind, error=str(error.get("message") or error.get("code")))
        response = line.get("response") or {}
        body = response.get("body") or {}
        if response.get("status_code") != 200:
            why = (body.get("error") or {}).get("message") if isinstance(body, dict) else None
            return Result(cid, "errored", error=f"status {response.get('status_code')}: {why or body}")
        usage = body.get("usage") or {}
        details = usage.get("prompt_tokens_details") or {}
        return Result(cid, "succeeded", text=body["choices"][0]["message"].get("content") or "",
                      provider_model=str(body.get("model", "")),
                      usage=Usage(input_tokens=usage.get("prompt_tokens", 0),
                                  output_tokens=usage.get("completion_tokens", 0),
                                  cache_read_tokens=details.get("cached_tokens", 0) or 0))
