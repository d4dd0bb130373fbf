"""The provider simulator's Anthropic Message Batches API (``/v1/messages/batches``): create,
retrieve (poll), results (JSONL by ``custom_id``), cancel and list, answered by the offline provider.

A batch is processed ``batch_delay_s`` after it is created (all at once, like a provider that takes
its time); then each request has succeeded, or errored (``batch_error_rate`` of them, by the
simulator's seeded dice), or every one has expired (``batch_expire``). A batch cancelled before then
ends with its requests cancelled. Results come in an order of their own, not the requests'.
"""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

BATCHES_PATH = "/v1/messages/batches"
MAX_REQUESTS = 100_000  # Anthropic's limit per batch
EXPIRES_AFTER = timedelta(hours=24)


def _iso(t: float | None) -> str | None:
    return None if t is None else datetime.fromtimestamp(t, UTC).isoformat().replace("+00:00", "Z")


@dataclass
class _Batch:
    id: str
    requests: list[dict[str, Any]]
    created: float
    ready_at: float
    cancelled_at: float | None = None
    ended: float | None = None
    results: list[dict[str, Any]] = field(default_factory=list)


class MessageBatches:
    """The batches one simulator holds (in memory), and how it answers for them.

    ``answer(params) -> (text, input_tokens, output_tokens)`` answers one request's ``params``
    (a Messages API body) as the simulator's chat endpoint would.
    """

    def __init__(self, answer: Callable[[dict[str, Any]], tuple[str, int, int]], *, delay_s: float,
                 error_rate: float, expire: bool, rng: random.Random) -> None:
        self.answer = answer
        self.delay_s = delay_s
        self.error_rate = error_rate
        self.expire = expire
        self.rng = rng
        self.lock = threading.Lock()
        self.batches: dict[str, _Batch] = {}

    def create(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        requests = body.get("requests")
        if not isinstance(requests, list) or not requests or len(requests) > MAX_REQUESTS:
            return 400, _error(f"requests: a list of 1 to {MAX_REQUESTS} requests")
        ids = [r.get("custom_id") if isinstance(r, dict) else None for r in requests]
        if any(not isinstance(i, str) or not i for i in ids) or len(set(ids)) != len(ids):
            return 400, _error("every request needs a custom_id of its own")
        now = time.time()
        batch = _Batch(id=f"msgbatch_sim{uuid.uuid4().hex[:20]}", requests=requests, created=now,
                       ready_at=now + self.delay_s)
        with self.lock:
            self.batches[batch.id] = batch
        return 200, self._view(batch, "")

    def retrieve(self, batch_id: str, base: str) -> tuple[int, dict[str, Any]]:
        batch = self._settled(batch_id)
        return (404, _error(f"no batch {batch_id}", "not_found_error")) if batch is None else \
            (200, self._view(batch, base))

    def cancel(self, batch_id: str, base: str) -> tuple[int, dict[str, Any]]:
        with self.lock:
            batch = self.batches.get(batch_id)
            if batch is not None and batch.ended is None and batch.cancelled_at is None:
                batch.cancelled_at = time.time()
        return self.retrieve(batch_id, base)

    def results(self, batch_id: str) -> tuple[int, list[dict[str, Any]] | dict[str, Any]]:
        batch = self._settled(batch_id)
        if batch is None:
            return 404, _error(f"no batch {batch_id}", "not_found_error")
        if batch.ended is None:
            return 400, _error(f"batch {batch_id} is still in progress")
        return 200, batch.results

    def listing(self, base: str) -> dict[str, Any]:
        with self.lock:
            ids = list(self.batches)
        data = [v for i in reversed(ids) if (v := self.retrieve(i, base)[1])]
        return {"data": data, "has_more": False, "first_id": data[0]["id"] if data else None,
                "last_id": data[-1]["id"] if data else None}

    def _settled(self, batch_id: str) -> _Batch | None:
        """The batch, processed if its time has come (or cancelled)."""
        with self.lock:
            batch = self.batches.get(batch_id)
            if batch is None or batch.ended is not None:
                return batch
            now = time.time()
            if batch.cancelled_at is not None:
                batch.results = [{"custom_id": r["custom_id"], "result": {"type": "canceled"}}
                                 for r in batch.requests]
            elif now >= batch.ready_at:
                batch.results = [self._result(r) for r in batch.requests]
            else:
                return batch
            self.rng.shuffle(batch.results)  # results come in no particular order
            batch.ended = now
            return batch

    def _result(self, request: dict[str, Any]) -> dict[str, Any]:
        custom_id = request["custom_id"]
        if self.expire:
            return {"custom_id": custom_id, "result": {"type": "expired"}}
        if self.rng.random() < self.error_rate:
            return {"custom_id": custom_id, "result": {"type": "errored", "error": {
                "type": "error", "error": {"type": "api_error", "message": "simulated error"}}}}
        params = request.get("params") or {}
        text, tokens_in, tokens_out = self.answer(params)
        return {"custom_id": custom_id, "result": {"type": "succeeded", "message": {
            "id": f"msg_sim{uuid.uuid4().hex[:20]}", "type": "message", "role": "assistant",
            "model": str(params.get("model", "")), "content": [{"type": "text", "text": text}],
            "stop_reason": "end_turn", "stop_sequence": None,
            "usage": {"input_tokens": tokens_in, "output_tokens": tokens_out}}}}

    @staticmethod
    def _view(batch: _Batch, base: str) -> dict[str, Any]:
        counts = {"processing": 0, "succeeded": 0, "errored": 0, "canceled": 0, "expired": 0}
        if batch.ended is None:
            counts["processing"] = len(batch.requests)
        for r in batch.results:
            counts[r["result"]["type"]] += 1
        status = ("ended" if batch.ended is not None else
                  "canceling" if batch.cancelled_at is not None else "in_progress")
        return {"id": batch.id, "type": "message_batch", "processing_status": status,
                "request_counts": counts, "created_at": _iso(batch.created),
                "expires_at": _iso(batch.created + EXPIRES_AFTER.total_seconds()),
                "ended_at": _iso(batch.ended), "cancel_initiated_at": _iso(batch.cancelled_at),
                "archived_at": None,
                "results_url": f"{base}{BATCHES_PATH}/{batch.id}/results" if batch.ended else None}


def _error(message: str, kind: str = "invalid_request_error") -> dict[str, Any]:
    return {"type": "error", "error": {"type": kind, "message": message}}
