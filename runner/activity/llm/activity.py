"""Activity side of the LLM gateway: resolve a catalog name and call its provider.

API keys are read here, by the worker, from the environment variable the catalog names; they never
travel through Temporal.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Sequence

from pydantic import ValidationError

from runner.activity.llm.errors import translate
from runner.activity.llm.offline import offline_answer
from runner.activity.llm.pacing import Pacer
from runner.activity.llm.providers import Providers, cost_usd
from runner.activity.step import step_activity
from runner.config.catalog import Catalog, ModelSpec
from runner.contract.errors import PermanentStepError
from runner.contract.jobkind import OfflineResponder
from runner.contract.llm import LLMCall, LLMResponse
from runner.contract.names import LLM_ACTIVITY
from runner.store.cache import StepCache, cache_key
from runner.store.identity import llm_identity


class LLMActivities:
    """The LLM activity, bound to a worker's catalog and the job kinds' offline responders."""

    def __init__(self, catalog: Catalog, responders: Sequence[OfflineResponder]) -> None:
        self.catalog = catalog
        self.responders = list(responders)
        self.providers = Providers()
        self.pacers = {name: Pacer(spec.rpm, spec.tpm) for name, spec in catalog.models.items()
                       if (spec.rpm or spec.tpm) and spec.provider != "offline"}

    async def prepare(self) -> None:
        """Import the providers' SDKs and make their clients before the first call (see
        :meth:`Providers.preload` and :meth:`Providers.warm`)."""
        await asyncio.to_thread(Providers.preload, self.catalog.models.values())
        for name, spec in self.catalog.models.items():
            try:
                key = self._key(name, spec)
            except PermanentStepError:  # said again, to the topic, when the model is called
                continue
            self.providers.warm(spec, key)

    @step_activity(LLM_ACTIVITY)
    async def complete(self, call: LLMCall) -> LLMResponse:
        """Answer one LLM call with the model the catalog names, or, with a step cache, with the
        answer kept there for the same model and request (no call, no cost)."""
        spec = self.catalog.models.get(call.model)
        if spec is None:
            raise PermanentStepError(
                f"model {call.model!r} is not in this worker's catalog ({self.catalog.source})"
            )
        if call.cache is None:
            return await self._answer(call, spec)
        key = cache_key(self._identity(spec), call.request.model_dump(mode="json"), {})
        if not call.refresh:
            hit = await asyncio.to_thread(StepCache(call.cache).lookup, key)
            if hit is not None:
                try:
                    return LLMResponse.model_validate({**hit.output, "cache_key": key,
                                                       "cached_from": hit.produced_by, "cost_usd": 0.0})
                except ValidationError:  # an entry of another kind under this key: ask the model
                    pass
        answer = await self._answer(call, spec)
        answer.cache_key = key
        return answer

    def _identity(self, spec: ModelSpec) -> dict[str, str]:
        return llm_identity(spec.provider, spec.model or "", self.responders)

    async def _answer(self, call: LLMCall, spec: ModelSpec) -> LLMResponse:
        if spec.provider == "offline":
            # sympy work: keep it off the event loop that heartbeats for the other activities
            text, usage = await asyncio.to_thread(offline_answer, call.request, self.responders)
            return LLMResponse(text=text, model=call.model, provider="offline",
                               provider_model=spec.model or "offline", usage=usage, cost_usd=0.0)
        key = self._key(call.model, spec)
        pacer = self.pacers.get(call.model)
        reserved = await pacer.admit(call.request) if pacer else 0
        try:
            answer = await self.providers.complete(spec, call.request, key)
        except Exception as exc:
            if pacer:
                pacer.refund(reserved)
            raise translate(exc, model=call.model, secret=key, max_wait_s=call.max_wait_s) from None
        if pacer:
            pacer.settle(reserved, answer.usage.input_tokens, answer.usage.output_tokens)
        return LLMResponse(text=answer.text, model=call.model, provider=spec.provider,
                           provider_model=answer.provider_model, usage=answer.usage,
                           cost_usd=cost_usd(spec, answer.usage))

    @staticmethod
    def _key(model: str, spec: ModelSpec) -> str | None:
        """The API key of catalog model ``model``, from the worker's environment (None: it needs
        none).

        Raises:
            PermanentStepError: the variable is not set, or holds what cannot be a key.
        """
        if not spec.api_key_env:
            return None
        key = (os.environ.get(spec.api_key_env) or "").strip()  # secrets files end in newlines
        if not key:
            raise PermanentStepError(f"model {model!r}: ${spec.api_key_env} is not set on this worker")
        if not key.isprintable():
            raise PermanentStepError(f"model {model!r}: ${spec.api_key_env} holds non-printable "
                                     "characters")
        return key

    def activities(self) -> list[object]:
        """The activity callables to register on a worker."""
        return [self.complete]
