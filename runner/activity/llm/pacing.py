"""Rate limits on the worker side of the gateway.

Requests per minute are held by the Temporal server: every model has its own task queue
(:func:`runner.contract.names.llm_task_queue`) whose activity dispatch rate the server holds for all
its workers (:func:`dispatch_rate`). The server dispatches in bursts, so each worker also paces its
calls to its share of the model's requests and tokens (tokens cannot be counted before a call is
dispatched): :class:`Pacer`. Activity-side only.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from runner.config.catalog import ModelSpec
from runner.contract.llm import LLMRequest

# Use this fraction of a model's rpm / tpm: a little below the limit keeps clocks, network jitter and
# the provider's own accounting from turning into 429s.
HEADROOM = 0.98
# How many seconds' worth of requests or tokens a pacer lets through at once.
BURST_S = 1.0
CHARS_PER_TOKEN = 4


def dispatch_rate(spec: ModelSpec) -> float | None:
    """Activities per second the server may dispatch for ``spec`` (None: unlimited)."""
    return spec.rpm * HEADROOM / 60.0 if spec.rpm else None


def estimate_input_tokens(request: LLMRequest) -> int:
    """A provider-neutral estimate of a request's input tokens (about four characters a token)."""
    chars = len(request.system) + sum(len(m.content) for m in request.messages)
    return max(1, chars // CHARS_PER_TOKEN)


class TokenBucket:
    """``per_minute`` units a minute (split among ``workers``), refilled continuously, holding at most
    ``burst_s`` seconds' worth. A take larger than the bucket waits for a full bucket and leaves it in
    debt. The pacers use it, and so does the provider simulator."""

    def __init__(self, per_minute: float, burst_s: float) -> None:
        self.per_minute = per_minute
        self.burst_s = burst_s
        self.workers = 1
        self.level = self.capacity
        self.stamp = time.monotonic()

    @property
    def rate(self) -> float:
        """Units a second."""
        return self.per_minute / 60.0 / self.workers

    @property
    def capacity(self) -> float:
        return max(1.0, self.rate * self.burst_s)

    def wait_for(self, units: float) -> float:
        """Seconds until ``units`` may be taken (0: now)."""
        self._refill()
        return max(0.0, min(units, self.capacity) - self.level) / self.rate

    def take(self, units: float) -> None:
        """Spend ``units`` (the level may go below zero: a debt)."""
        self._refill()
        self.level -= units

    def give(self, units: float) -> None:
        """Give back ``units`` (never above the capacity)."""
        self._refill()
        self.level = min(self.capacity, self.level + units)

    def remaining(self) -> int:
        self._refill()
        return max(0, int(self.level))

    def split(self, workers: int) -> None:
        """Share the rate among ``workers``."""
        self._refill()
        self.workers = max(1, workers)
        self.level = min(self.level, self.capacity)

    def _refill(self) -> None:
        now = time.monotonic()
        self.level = min(self.capacity, self.level + (now - self.stamp) * self.rate)
        self.stamp = now


class Pacer:
    """Paces one worker's calls to one model, first come first served.

    Requests: the Temporal server holds the model's dispatch rate for all workers, but it
    dispatches in bursts (at the start, after a lull) and spreads them over its workers; this
    worker smooths its calls to its share of the rate (a bucket holding one second's worth of it).
    Tokens: each call reserves its estimated tokens (input from the request's length; output from
    the model's recent answers, or ``max_tokens`` until one is seen) when its turn comes, and the
    reservation is corrected by the usage the provider reports. Both budgets are split among the
    workers that poll the model's queue (:meth:`share`), so that together they stay within the
    model's limits even while the server bursts.
    """

    def __init__(self, rpm: int | None, tpm: int | None) -> None:
        self.requests = TokenBucket(rpm * HEADROOM, BURST_S) if rpm else None
        self.tokens = TokenBucket(tpm * HEADROOM, BURST_S) if tpm else None
        self.lock = asyncio.Lock()
        self.output_estimate: float | None = None  # learned from answers; None until the first

    def share(self, workers: int) -> None:
        """Split the request and token budgets among ``workers`` workers."""
        for bucket in (self.requests, self.tokens):
            if bucket is not None:
                bucket.split(workers)

    def reservation(self, request: LLMRequest) -> int:
        """Tokens to reserve for ``request``."""
        output = request.max_tokens if self.output_estimate is None else self.output_estimate
        return estimate_input_tokens(request) + int(min(request.max_tokens, output))

    async def admit(self, request: LLMRequest) -> int:
        """Wait for ``request``'s turn; returns the tokens reserved for it (give them to
        :meth:`settle` or :meth:`refund`)."""
        async with self.lock:  # first come, first served
            if self.requests is not None:
                await _take(self.requests, lambda: 1)
            if self.tokens is None:
                return 0
            # sized when its turn comes: the output estimate may have learned meanwhile
            return await _take(self.tokens, lambda: self.reservation(request))

    def settle(self, reserved: int, input_tokens: int, output_tokens: int) -> None:
        """Correct a reservation with what the provider reported, and learn the output size."""
        if self.tokens is None:
            return
        self.tokens.give(reserved - (input_tokens + output_tokens))
        self.output_estimate = (output_tokens if self.output_estimate is None
                                else 0.8 * self.output_estimate + 0.2 * output_tokens)

    def refund(self, reserved: int) -> None:
        """Give back a reservation for a call that was not served (refused, failed, rate-limited)."""
        if self.tokens is not None:
            self.tokens.give(reserved)


async def _take(bucket: TokenBucket, units: Callable[[], int]) -> int:
    while (pause := bucket.wait_for(n := units())) > 0:
        await asyncio.sleep(pause)
    bucket.take(n)
    return n
