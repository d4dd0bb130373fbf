"""What an LLM call (and a speech call) takes and gives back, whatever the provider (sandbox-safe)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from runner.contract.artifacts import Artifact
from runner.contract.types import StepOutput


class Message(BaseModel):
    role: Literal["user", "assistant"]
    content: str


class LLMRequest(BaseModel):
    """A provider-neutral chat request."""

    system: str = ""
    messages: list[Message]
    max_tokens: int = Field(default=4096, ge=1)
    temperature: float = Field(default=0.2, ge=0, le=2)


DEFAULT_MAX_WAIT_S = 120.0


class BudgetRef(BaseModel):
    """Whom a call of a budgeted batch asks for room before it is made (and tells what it cost)."""

    batch: str = Field(description="the batch's workflow id")
    index: int = Field(description="the topic's line in the batch's topic file")
    step: str = Field(description="the step's base name")


class LLMCall(BaseModel):
    """Input of the LLM activity: a catalog model name (never a key) and the request."""

    model: str
    request: LLMRequest
    max_wait_s: float = Field(default=DEFAULT_MAX_WAIT_S, gt=0, description="a model that asks to "
                              "wait longer than this (429 retry-after) hands the call to the next one")
    cache: str | None = Field(default=None, description="the step cache's folder: an answer kept "
                              "there for the same model and request is given without a call")
    refresh: bool = Field(default=False, description="call the model even if the cache has an answer")
    budget: BudgetRef | None = Field(default=None, description="the batch has a budget: ask it first")


class Usage(BaseModel):
    input_tokens: int = Field(default=0, description="every input token, cached ones included")
    output_tokens: int = 0
    cache_read_tokens: int = Field(default=0, description="of the input, read from the provider's "
                                   "prompt cache")
    cache_write_tokens: int = Field(default=0, description="of the input, written to it")


class LLMResponse(StepOutput):
    """Output of the LLM activity."""

    text: str
    model: str = Field(description="catalog name of the model that answered")
    provider: str
    provider_model: str
    usage: Usage = Field(default_factory=Usage)
    cost_usd: float | None = None
    list_cost_usd: float | None = Field(default=None, description="an answer from a provider batch: "
                                        "what it would have cost realtime")



class SpeechRequest(BaseModel):
    """Text to speak, and where the audio goes (a WAV file in the batch's store)."""

    text: str = Field(min_length=1, max_length=4096)
    voice: str = Field(default="", description="the provider's voice name; empty: its default")
    output: Artifact = Field(description="the .wav file to write")


class SpeechCall(BaseModel):
    """Input of the speech activity: a catalog model name (never a key) and the request."""

    model: str
    request: SpeechRequest
    max_wait_s: float = Field(default=DEFAULT_MAX_WAIT_S, gt=0)
    cache: str | None = Field(default=None, description="the step cache's folder: audio kept there "
                              "for the same model, voice and text is copied instead of spoken")
    refresh: bool = Field(default=False, description="speak even if the cache has the audio")
    budget: BudgetRef | None = Field(default=None, description="the batch has a budget: ask it first")


# The offline voice: espeak-ng at this many words a minute (its default, 175, is brisk for
# formulas). Part of the offline voice's identity in the step cache.
OFFLINE_WPM = 165


class SpeechResponse(StepOutput):
    """Output of the speech activity: the audio written, and who spoke it."""

    audio: Artifact
    duration_s: float
    model: str = Field(description="catalog name of the model that spoke")
    provider: str
    provider_model: str
    characters: int
    cost_usd: float | None = None


class BatchedCall(BaseModel):
    """Input of the enqueue activity: the call, and where its answer goes."""

    call: LLMCall
    custom_id: str
    batch: str = Field(description="the batch's workflow id (it gathers the calls)")
    reply_to: str = Field(description="the topic's workflow id")
    folder: str = Field(description="the batch's output folder (the request is written under it)")


class Enqueued(BaseModel):
    """Output of the enqueue activity: queued (the answer will come by signal), or answered at once
    (from the step cache, or by a model that has no batch API)."""

    answer: LLMResponse | None = None


class Delivered(BaseModel):
    """A call's answer, or why there is none (signal ``batch_answer`` to its topic)."""

    custom_id: str
    answer: LLMResponse | None = None
    error: str | None = None
    provider_batch: str = ""
