"""Real providers: the official Anthropic SDK and litellm, both with their own retries off so that
Temporal owns every attempt. Activity-side only (never imported by workflow code)."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from runner.config.catalog import ModelSpec
from runner.contract.llm import LLMRequest, SpeechRequest, Usage

# litellm fetches its model cost map from the network at import unless told not to; no machine
# here reaches that network, and a worker should not depend on it.
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

REQUEST_TIMEOUT_S = 120.0


@dataclass(frozen=True)
class ProviderAnswer:
    text: str
    usage: Usage
    provider_model: str


class Providers:
    """Provider clients for one worker, made at worker start (:meth:`warm`) or on first use, and
    reused."""

    def __init__(self) -> None:
        self._anthropic: dict[tuple[str | None, str], Any] = {}

    @staticmethod
    def preload(specs: Iterable[ModelSpec]) -> None:
        """Import the SDKs that ``specs`` will need (seconds for litellm): done at worker start, in
        a thread, so that no first call blocks the worker's event loop with an import."""
        specs = list(specs)
        if any(s.provider == "anthropic" for s in specs):
            import anthropic  # noqa: F401
        if any(s.provider == "litellm" or (s.provider != "offline" and s.price is None) for s in specs):
            import litellm  # noqa: F401  (calls, and the cost map for unpriced models)

    async def complete(self, spec: ModelSpec, request: LLMRequest, key: str | None) -> ProviderAnswer:
        """Call ``spec``'s provider. SDK exceptions propagate (see :mod:`runner.activity.llm.errors`)."""
        if spec.provider == "anthropic":
            return await self._call_anthropic(spec, request, key)
        if spec.provider == "litellm":
            return await self._call_litellm(spec, request, key)
        raise ValueError(f"provider {spec.provider!r} is not a network provider")

    async def speak(self, spec: ModelSpec, request: SpeechRequest, key: str | None) -> tuple[bytes, str]:
        """Speak ``request.text`` with ``spec``'s provider (litellm's speech API): WAV bytes and the
        provider's model. SDK exceptions propagate (see :mod:`runner.activity.llm.errors`).
        """
        import litellm

        litellm.suppress_debug_info = True
        response = await litellm.aspeech(
            model=spec.model, input=request.text, voice=request.voice or "alloy", api_key=key,
            api_base=spec.base_url, max_retries=0, timeout=REQUEST_TIMEOUT_S, response_format="wav")
        return bytes(response.content), spec.model

    def warm(self, spec: ModelSpec, key: str | None) -> None:
        """Make ``spec``'s client now (at worker start) rather than in its first call: building one
        takes a noticeable moment (an HTTP client and its TLS context), which would delay the first
        requests after the pacer admitted them and bunch them up at the provider."""
        if spec.provider == "anthropic":
            self.anthropic_client(spec, key)

    def anthropic_client(self, spec: ModelSpec, key: str | None) -> Any:
        """The AsyncAnthropic client of ``spec``'s base URL and ``key`` (made once)."""
        import anthropic

        cache_key = (spec.base_url, key or "")
        client = self._anthropic.get(cache_key)
        if client is None:
            client = anthropic.AsyncAnthropic(api_key=key, base_url=spec.base_url, max_retries=0,
                                              timeout=REQUEST_TIMEOUT_S)
            self._anthropic[cache_key] = client
        return client

    async def _call_anthropic(self, spec: ModelSpec, request: LLMRequest,
                              key: str | None) -> ProviderAnswer:
        client = self.anthropic_client(spec, key)
        # anthropic 2.x's messages.create takes no temperature (the request's is not sent)
        message = await client.messages.create(**anthropic_params(spec, request))
        text = "".join(getattr(block, "text", "") for block in message.content)
        return ProviderAnswer(text=text, provider_model=message.model, usage=anthropic_usage(message.usage))

    async def _call_litellm(self, spec: ModelSpec, request: LLMRequest,
                            key: str | None) -> ProviderAnswer:
        import litellm

        litellm.suppress_debug_info = True  # no "Give Feedback" banner on stdout for every error
        messages = [{"role": "system", "content": request.system}] if request.system else []
        messages += [{"role": m.role, "content": m.content} for m in request.messages]
        response = await litellm.acompletion(
            model=spec.model, messages=messages, max_tokens=request.max_tokens,
            temperature=request.temperature, api_key=key, api_base=spec.base_url, num_retries=0,
            max_retries=0, timeout=REQUEST_TIMEOUT_S)
        usage = getattr(response, "usage", None)
        details = getattr(usage, "prompt_tokens_details", None)  # (OpenAI caches long prompts itself)
        return ProviderAnswer(
            text=response.choices[0].message.content or "",
            provider_model=str(getattr(response, "model", spec.model)),
            usage=Usage(input_tokens=getattr(usage, "prompt_tokens", 0) or 0,
                        output_tokens=getattr(usage, "completion_tokens", 0) or 0,
                        cache_read_tokens=getattr(details, "cached_tokens", 0) or 0))


# Anthropic's prompt cache, as multiples of the input price (5-minute entries)
ANTHROPIC_CACHE_READ, ANTHROPIC_CACHE_WRITE = 0.1, 1.25


def anthropic_params(spec: ModelSpec, request: LLMRequest) -> dict[str, Any]:
    """A request in Anthropic's Messages API (realtime and in Message Batches alike). The system
    prompt, which a step's calls share, is marked for the prompt cache: read back at a tenth of the
    input price by the calls that follow within five minutes (Anthropic caches prompts of at least
    1,024 tokens, 2,048 for Haiku; shorter ones are sent as they are, at no extra cost)."""
    params: dict[str, Any] = {"model": spec.model, "max_tokens": request.max_tokens,
                              "messages": [{"role": m.role, "content": m.content} for m in request.messages]}
    if request.system:
        params["system"] = [{"type": "text", "text": request.system, "cache_control": {"type": "ephemeral"}}]
    return params


def anthropic_usage(usage: Any) -> Usage:
    """An Anthropic answer's usage, every input token in ``input_tokens`` (Anthropic counts the
    cached ones apart)."""
    read = getattr(usage, "cache_read_input_tokens", 0) or 0
    write = getattr(usage, "cache_creation_input_tokens", 0) or 0
    return Usage(input_tokens=usage.input_tokens + read + write, output_tokens=usage.output_tokens,
                 cache_read_tokens=read, cache_write_tokens=write)


def cost_usd(spec: ModelSpec, usage: Usage) -> float | None:
    """Cost of a call: the catalog's price (input read from or written to the prompt cache at its
    own price), else litellm's cost map, else unknown."""
    price = spec.price
    if price is not None:
        anthropic = spec.provider == "anthropic"
        read = price.cache_read_per_mtok if price.cache_read_per_mtok is not None else \
            price.input_per_mtok * (ANTHROPIC_CACHE_READ if anthropic else 1.0)
        write = price.cache_write_per_mtok if price.cache_write_per_mtok is not None else \
            price.input_per_mtok * (ANTHROPIC_CACHE_WRITE if anthropic else 1.0)
        plain = usage.input_tokens - usage.cache_read_tokens - usage.cache_write_tokens
        return round((plain * price.input_per_mtok + usage.cache_read_tokens * read
                      + usage.cache_write_tokens * write + usage.output_tokens * price.output_per_mtok)
                     / 1e6, 6)
    try:
        import litellm

        litellm.suppress_debug_info = True  # else an unknown model prints a banner to stdout
        prompt, completion = litellm.cost_per_token(
            model=spec.model, prompt_tokens=usage.input_tokens,
            completion_tokens=usage.output_tokens)
        return round(prompt + completion, 6)
    except Exception:  # a model litellm does not price
        return None
