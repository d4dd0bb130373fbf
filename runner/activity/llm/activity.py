"""Activity side of the LLM gateway: resolve a catalog name and call its provider.

API keys are read here, by the worker, from the environment variable the catalog names; they never
travel through Temporal.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import Sequence
from pathlib import Path

from pydantic import ValidationError

from runner.activity import metrics
from runner.activity.llm.budget import room
from runner.activity.llm.errors import translate
from runner.activity.llm.offline import offline_answer
from runner.activity.llm.pacing import Pacer, estimate_input_tokens
from runner.activity.llm.providers import Providers, cost_usd
from runner.activity.step import step_activity
from runner.config.catalog import Catalog, ModelSpec
from runner.contract.budget import BUDGET_EXHAUSTED
from runner.contract.errors import PermanentStepError, StepError
from runner.contract.jobkind import OfflineResponder
from runner.contract.llm import (
    OFFLINE_WPM,
    LLMCall,
    LLMRequest,
    LLMResponse,
    Message,
    SpeechCall,
    SpeechResponse,
)
from runner.contract.names import LLM_ACTIVITY, SPEECH_ACTIVITY
from runner.isolation.proc import run
from runner.store.artifacts import join
from runner.store.cache import StepCache, cache_key, file_digest
from runner.store.identity import llm_identity, speech_identity


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
        usable = {}
        for name, spec in self.catalog.models.items():
            try:
                usable[name] = (spec, self.key_for(name, spec))
            except PermanentStepError:  # no key here: said to the topic if the model is called
                continue
        # (a catalog's models without a key on this worker cost no SDK import at its start)
        await asyncio.to_thread(Providers.preload, [spec for spec, _ in usable.values()])
        for spec, key in usable.values():
            self.providers.warm(spec, key)

    @step_activity(LLM_ACTIVITY)
    async def complete(self, call: LLMCall) -> LLMResponse:
        """Answer one LLM call with the model the catalog names, or, with a step cache, with the
        answer kept there for the same model and request (no call, no cost)."""
        spec = self.spec(call.model)
        if call.cache is None:
            return await self._counted(call, spec)
        key = self.cache_key(spec, call)
        if not call.refresh and (hit := await self.cached(call, key)) is not None:
            return hit
        answer = await self._counted(call, spec)
        answer.cache_key = key
        return answer

    def spec(self, model: str) -> ModelSpec:
        """Catalog model ``model``.

        Raises:
            PermanentStepError: this worker's catalog has no such model.
        """
        spec = self.catalog.models.get(model)
        if spec is None:
            raise PermanentStepError(f"model {model!r} is not in this worker's catalog "
                                     f"({self.catalog.source})")
        return spec

    def cache_key(self, spec: ModelSpec, call: LLMCall) -> str:
        """The call's key in the step cache."""
        return cache_key(self._identity(spec), call.request.model_dump(mode="json"), {})

    async def cached(self, call: LLMCall, key: str) -> LLMResponse | None:
        """The answer the step cache keeps under ``key`` (None: none, or an entry of another kind)."""
        assert call.cache is not None
        hit = await asyncio.to_thread(StepCache(call.cache).lookup, key)
        if hit is None:
            return None
        try:
            cached = LLMResponse.model_validate({**hit.output, "cache_key": key,
                                                 "cached_from": hit.produced_by, "cost_usd": 0.0})
        except ValidationError:  # an entry of another kind under this key: ask the model
            return None
        metrics.llm_call(call.model, "chat", "cached")
        return cached

    async def _counted(self, call: LLMCall, spec: ModelSpec) -> LLMResponse:
        """:meth:`_answer`, counted in the worker's metrics (and, in a budgeted batch, in its
        budget: the call is made only if the batch has room for it)."""
        budget = call.budget if spec.provider != "offline" else None
        tokens = estimate_input_tokens(call.request) if budget else 0  # (only a budget asks)
        try:
            async with room(budget, call.model, tokens=tokens,
                            usd=tokens * spec.price.input_per_mtok / 1e6 if spec.price else 0.0) as cost:
                answer = await self._answer(call, spec)
                cost.usd, cost.answered = answer.cost_usd, True
                cost.tokens = answer.usage.input_tokens + answer.usage.output_tokens
        except Exception as exc:
            metrics.llm_call(call.model, "chat", _outcome(exc))
            raise
        metrics.llm_call(call.model, "chat", "answered", answer.usage.input_tokens,
                         answer.usage.output_tokens, answer.cost_usd)
        return answer

    def _identity(self, spec: ModelSpec) -> dict[str, str]:
        return llm_identity(spec.provider, spec.model or "", self.responders)

    async def _answer(self, call: LLMCall, spec: ModelSpec) -> LLMResponse:
        if spec.provider == "offline":
            # sympy work: keep it off the event loop that heartbeats for the other activities
            text, usage = await asyncio.to_thread(offline_answer, call.request, self.responders)
            return LLMResponse(text=text, model=call.model, provider="offline",
                               provider_model=spec.model or "offline", usage=usage, cost_usd=0.0)
        key = self.key_for(call.model, spec)
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
    def key_for(model: str, spec: ModelSpec) -> str | None:
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

    @step_activity(SPEECH_ACTIVITY)
    async def speak(self, call: SpeechCall) -> SpeechResponse:
        """Speak one text with the model the catalog names into ``call.request.output`` (a WAV
        file): espeak-ng for ``offline``, the provider's speech API through litellm otherwise."""
        spec = self.spec(call.model)
        request = call.request
        output = Path(request.output)
        output.parent.mkdir(parents=True, exist_ok=True)
        identity = await asyncio.to_thread(speech_identity, spec.provider, spec.model or "")  # (runs
        # espeak-ng --version once)
        key = cache_key(identity, request.model_dump(mode="json", include={"text", "voice"}), {})
        if call.cache is not None and not call.refresh:
            hit = await asyncio.to_thread(_cached_speech, call.cache, key, output)
            if hit is not None:
                metrics.llm_call(call.model, "speech", "cached")
                return hit
        budget = call.budget if spec.provider != "offline" else None
        chars = len(request.text)  # (a voice is priced per character: known before the call)
        try:
            async with room(budget, call.model, tokens=0,
                            usd=chars * spec.price.input_per_mtok / 1e6 if spec.price else 0.0) as cost:
                answer = await self._spoken(call, spec, output)
                cost.usd, cost.answered = answer.cost_usd, True
        except Exception as exc:
            metrics.llm_call(call.model, "speech", _outcome(exc))
            raise
        metrics.llm_call(call.model, "speech", "answered", answer.characters, 0, answer.cost_usd)
        if call.cache is not None:  # kept by the topic's result (the workflow may yet reject it)
            answer.cache_key = key
            answer.cache_files = {str(output): await asyncio.to_thread(file_digest, output)}
        return answer

    async def _spoken(self, call: SpeechCall, spec: ModelSpec, output: Path) -> SpeechResponse:
        """Speak ``call``'s text with ``spec`` into ``output``, written whole."""
        request = call.request
        if spec.provider == "offline":
            audio = await offline_speech(request.text, request.voice, output.parent)
            provider_model = "espeak-ng"
        else:
            audio, provider_model = await self._speak(call, spec)
        audio = whole_wav(audio)
        duration = wav_duration(audio)
        if duration is None or duration <= 0:
            raise StepError(f"model {call.model!r} answered with no usable WAV audio "
                            f"({len(audio)} bytes)")
        tmp = output.with_name(f".{output.name}.partial")
        tmp.write_bytes(audio)
        os.replace(tmp, output)
        price = spec.price
        cost = None if price is None else round(len(request.text) / 1e6 * price.input_per_mtok, 6)
        return SpeechResponse(audio=str(output), duration_s=duration, model=call.model,
                              provider=spec.provider, provider_model=provider_model,
                              characters=len(request.text), cost_usd=0.0 if spec.provider == "offline"
                              else cost)

    async def _speak(self, call: SpeechCall, spec: ModelSpec) -> tuple[bytes, str]:
        """A network provider's speech, paced like the model's chat calls (a character counts as a
        quarter token)."""
        if spec.provider != "litellm":
            raise PermanentStepError(f"model {call.model!r}: provider {spec.provider} has no speech "
                                     "API (give a litellm speech model, e.g. openai/tts-1, or offline)")
        key = self.key_for(call.model, spec)
        pacer = self.pacers.get(call.model)
        text = call.request.text
        reserved = await pacer.admit(LLMRequest(messages=[Message(role="user", content=text)],
                                                max_tokens=1)) if pacer else 0
        try:
            spoken = await self.providers.speak(spec, call.request, key)
        except Exception as exc:
            if pacer:
                pacer.refund(reserved)
            raise translate(exc, model=call.model, secret=key, max_wait_s=call.max_wait_s) from None
        if pacer:
            pacer.settle(reserved, len(text) // 4, 0)
        return spoken

    def activities(self) -> list[object]:
        """The activity callables to register on a worker."""
        return [self.complete, self.speak]


def _outcome(exc: BaseException) -> str:
    """A failed call's outcome in the metrics: ``rate_limited`` (a 429), ``over_budget`` (not made:
    the batch's budget had no room for it) or ``failed``."""
    kind = getattr(exc, "type", None)
    if kind == BUDGET_EXHAUSTED:
        return "over_budget"
    return "rate_limited" if kind in ("RateLimited", "WaitTooLong") else "failed"


def _cached_speech(folder: str, key: str, output: Path) -> SpeechResponse | None:
    """The audio the step cache in ``folder`` keeps under ``key``, copied whole to ``output``, and
    its response (None: not there, or not a speech entry)."""
    cache = StepCache(folder)
    entry = cache.lookup(key)
    if entry is None or len(entry.files) != 1 or not isinstance(entry.output, dict):
        return None
    try:
        answer = SpeechResponse.model_validate({**entry.output, "audio": str(output), "cache_key": key,
                                                "cached_from": entry.produced_by, "cost_usd": 0.0})
        cache.store.get_file(join(entry.files_at, entry.files[0]), output)  # replaced whole
    except (ValidationError, OSError):  # another kind of entry, or damaged: speak
        return None
    return answer


def wav_duration(audio: bytes) -> float | None:
    """The length in seconds of WAV ``audio`` (None: not a WAV file). A streamed WAV may say it
    holds more frames than it does: the bytes decide."""
    import io
    import wave

    try:
        with wave.open(io.BytesIO(audio)) as w:
            rate, width, channels = w.getframerate(), w.getsampwidth(), w.getnchannels()
    except (wave.Error, EOFError):
        return None
    data = audio.find(b"data")
    frames = (len(audio) - data - 8) // (width * channels) if data >= 0 else 0
    return frames / rate if rate and frames > 0 else None


def whole_wav(audio: bytes) -> bytes:
    """``audio`` with its RIFF and data sizes set from its bytes: a WAV written to a pipe
    (espeak-ng --stdout, a streamed answer) announces sizes it could not know."""
    data = audio.find(b"data")
    if not audio.startswith(b"RIFF") or data < 0:
        return audio
    size = len(audio) - data - 8
    return (audio[:4] + (len(audio) - 8).to_bytes(4, "little") + audio[8:data + 4]
            + size.to_bytes(4, "little") + audio[data + 8:])


def espeak_argv(text: str, voice: str) -> list[str]:
    """The espeak-ng command that writes ``text`` spoken in ``voice`` (default ``en-us``) as WAV on
    its standard output (the offline voice, and the provider simulator's)."""
    return ["espeak-ng", "-v", voice or "en-us", "-s", str(OFFLINE_WPM), "--stdout", "--", text]


async def offline_speech(text: str, voice: str, scratch: Path) -> bytes:
    """``text`` spoken by espeak-ng (no network, no key) as WAV bytes.

    Raises:
        PermanentStepError: espeak-ng is not installed, or refuses the voice.
    """
    if shutil.which("espeak-ng") is None:
        raise PermanentStepError("the offline voice needs espeak-ng (Debian package espeak-ng)")
    done = await run(espeak_argv(text, voice), cwd=scratch, timeout=120)
    if done.code != 0 or not done.stdout:
        raise PermanentStepError(f"espeak-ng failed (exit {done.code}): "
                                 f"{done.stderr.decode(errors='replace').strip()[:300]}")
    return done.stdout
