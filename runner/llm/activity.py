"""Activity side of the LLM gateway: resolve a catalog name and call its provider.

API keys are read here, by the worker, from the environment variable the catalog names; they never
travel through Temporal.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from runner.catalog import Catalog
from runner.errors import PermanentStepError
from runner.llm.offline import OfflineResponder, offline_answer
from runner.llm.types import LLM_ACTIVITY, LLMCall, LLMResponse
from runner.step_activity import step_activity


class LLMActivities:
    """The LLM activity, bound to a worker's catalog and the job kinds' offline responders."""

    def __init__(self, catalog: Catalog, responders: Sequence[OfflineResponder]) -> None:
        self.catalog = catalog
        self.responders = list(responders)

    @step_activity(LLM_ACTIVITY)
    async def complete(self, call: LLMCall) -> LLMResponse:
        """Answer one LLM call with the model the catalog names."""
        spec = self.catalog.models.get(call.model)
        if spec is None:
            raise PermanentStepError(
                f"model {call.model!r} is not in this worker's catalog ({self.catalog.source})"
            )
        if spec.provider == "offline":
            # sympy work: keep it off the event loop that heartbeats for the other activities
            text, usage = await asyncio.to_thread(offline_answer, call.request, self.responders)
            return LLMResponse(text=text, model=call.model, provider="offline",
                               provider_model=spec.model or "offline", usage=usage, cost_usd=0.0)
        raise PermanentStepError(
            f"model {call.model!r}: provider {spec.provider!r} is not available in this version "
            "(only 'offline' is)"
        )

    def activities(self) -> list[object]:
        """The activity callables to register on a worker."""
        return [self.complete]
