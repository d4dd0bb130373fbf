"""The provider simulator's batch APIs, answered by the offline provider: Anthropic's Message Batches
(``/v1/messages/batches``: create, retrieve (poll), results (JSONL by ``custom_id``), cancel, list)
and OpenAI's Batch API (``/v1/files``: upload, content; ``/v1/batches``: create, retrieve, cancel,
list).

A batch is processed ``batch_delay_s`` after it is created (all at once, like a provider that takes
its time); then each request has succeeded, or errored (``batch_error_rate`` of them, by the
simulator's seeded dice), or every one has expired (``batch_expire``). A batch cancelled before then
ends with its requests cancelled. Results come in an order of their own, not the requests'.
"""

from __future__ import annotations

import json
import random
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

BATCHES_PATH = "/v1/messages/batches"
# one request's body -> (text, input tokens, output tokens)
Answer = Callable[[dict[str, Any]], tuple[str, int, int]]
# a request's params and input tokens -> its usage's input fields (the prompt cache's share)
Usage = Callable[[dict[str, Any], int], dict[str, int]]
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


class _Provider:
    """What both batch APIs share: how requests are answered, how long a batch takes, its dice."""

    def __init__(self, answer: Answer, *, delay_s: float,
                 error_rate: float, expire: bool, rng: random.Random) -> None:
        self.answer = answer
        self.delay_s = delay_s
        self.error_rate = error_rate
        self.expire = expire
        self.rng = rng
        self.lock = threading.Lock()
        self.batches: dict[str, Any] = {}

    def _settled(self, batch_id: str) -> Any:
        """The batch, processed (:meth:`_process`) if its time has come, or ended as cancelled
        (:meth:`_cancelled`) if it was cancelled before; None if there is no such batch."""
        with self.lock:
            batch = self.batches.get(batch_id)
            if batch is None or batch.ended is not None:
                return batch
            now = time.time()
            if batch.cancelled_at is not None:
                self._cancelled(batch)
            elif now >= batch.ready_at:
                self._process(batch)
            else:
                return batch
            batch.ended = now
            return batch

    def _cancelled(self, batch: Any) -> None:
        raise NotImplementedError

    def _process(self, batch: Any) -> None:
        raise NotImplementedError


class MessageBatches(_Provider):
    """The batches one simulator holds (in memory), and how it answers for them.

    ``answer(params) -> (text, input_tokens, output_tokens)`` answers one request's ``params``
    (a Messages API body) as the simulator's chat endpoint would.
    """

    def __init__(self, answer: Answer, usage: Usage | None = None, **dice: Any) -> None:
        super().__init__(answer, **dice)
        self.batches: dict[str, _Batch] = {}
        self.usage = usage or (lambda params, tokens_in: {"input_tokens": tokens_in})

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
        return _page([self.retrieve(i, base)[1] for i in reversed(ids)])

    def _cancelled(self, batch: _Batch) -> None:
        batch.results = [{"custom_id": r["custom_id"], "result": {"type": "canceled"}}
                         for r in batch.requests]

    def _process(self, batch: _Batch) -> None:
        batch.results = [self._result(r) for r in batch.requests]
        self.rng.shuffle(batch.results)  # results come in no particular order

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
            "usage": {**self.usage(params, tokens_in), "output_tokens": tokens_out}}}}

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


def _page(data: list[dict[str, Any]]) -> dict[str, Any]:
    """A list answer holding every batch (newest first), one page."""
    return {"data": data, "has_more": False, "first_id": data[0]["id"] if data else None,
            "last_id": data[-1]["id"] if data else None}


def _error(message: str, kind: str = "invalid_request_error") -> dict[str, Any]:
    return {"type": "error", "error": {"type": kind, "message": message}}


OPENAI_FILES_PATH = "/v1/files"
OPENAI_BATCHES_PATH = "/v1/batches"


@dataclass
class _OpenAIBatch:
    id: str
    input_file_id: str
    endpoint: str
    lines: list[dict[str, Any]]
    created: float
    ready_at: float
    metadata: dict[str, Any] | None = None
    cancelled_at: float | None = None
    ended: float | None = None
    status: str = "in_progress"
    output_file_id: str | None = None
    error_file_id: str | None = None
    completed: int = 0
    failed: int = 0


class OpenAIBatches(_Provider):
    """OpenAI's Batch API as the simulator answers it: files (upload a JSONL of requests, download
    results), batches (create, retrieve, cancel, list). ``answer(body) -> (text, input_tokens,
    output_tokens)`` answers one chat-completions body. Timing, errors and expiry as for
    :class:`MessageBatches`."""

    def __init__(self, answer: Answer, **dice: Any) -> None:
        super().__init__(answer, **dice)
        self.files: dict[str, tuple[str, bytes, str]] = {}  # id -> (name, content, purpose)
        self.batches: dict[str, _OpenAIBatch] = {}

    def upload(self, name: str, content: bytes, purpose: str) -> tuple[int, dict[str, Any]]:
        if purpose != "batch":
            return 400, _openai_error("purpose: only 'batch' files are simulated")
        file_id = f"file-sim{uuid.uuid4().hex[:20]}"
        with self.lock:
            self.files[file_id] = (name, content, purpose)
        return 200, self._file_view(file_id)

    def content(self, file_id: str) -> tuple[int, bytes | dict[str, Any]]:
        with self.lock:
            found = self.files.get(file_id)
        return (404, _openai_error(f"no file {file_id}")) if found is None else (200, found[1])

    def create(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        file_id = str(body.get("input_file_id") or "")
        with self.lock:
            found = self.files.get(file_id)
        if found is None:
            return 400, _openai_error(f"input_file_id: no file {file_id!r}")
        try:
            lines = [json.loads(line) for line in found[1].decode().splitlines() if line.strip()]
        except (ValueError, UnicodeDecodeError):
            return 400, _openai_error("the input file is not JSONL")
        ids = [line.get("custom_id") for line in lines if isinstance(line, dict)]
        if len(ids) != len(lines) or not lines or len(set(ids)) != len(ids) or not all(ids):
            return 400, _openai_error("every line needs a custom_id of its own")
        now = time.time()
        batch = _OpenAIBatch(id=f"batch_sim{uuid.uuid4().hex[:20]}", input_file_id=file_id,
                             endpoint=str(body.get("endpoint") or "/v1/chat/completions"), lines=lines,
                             created=now, ready_at=now + self.delay_s, metadata=body.get("metadata"))
        with self.lock:
            self.batches[batch.id] = batch
        return 200, self._view(batch)

    def retrieve(self, batch_id: str) -> tuple[int, dict[str, Any]]:
        batch = self._settled(batch_id)
        return (404, _openai_error(f"no batch {batch_id}")) if batch is None else (200, self._view(batch))

    def cancel(self, batch_id: str) -> tuple[int, dict[str, Any]]:
        with self.lock:
            batch = self.batches.get(batch_id)
            if batch is not None and batch.ended is None and batch.cancelled_at is None:
                batch.cancelled_at = time.time()
        return self.retrieve(batch_id)

    def listing(self) -> dict[str, Any]:
        with self.lock:
            ids = list(self.batches)
        return {"object": "list", **_page([self.retrieve(i)[1] for i in reversed(ids)])}

    def _cancelled(self, batch: _OpenAIBatch) -> None:
        batch.status = "cancelled"

    def _process(self, batch: _OpenAIBatch) -> None:
        if self.expire:
            batch.status = "expired"
            errors = [self._line(r["custom_id"], None, {"code": "batch_expired", "message":
                                                          "the batch expired before this request ran"})
                      for r in batch.lines]
            batch.error_file_id = self._store(f"{batch.id}_errors.jsonl", errors)
            batch.failed = len(errors)
            return
        outputs, errors = [], []
        for r in batch.lines:
            if self.rng.random() < self.error_rate:
                errors.append(self._line(r["custom_id"], {"status_code": 500, "request_id": "sim",
                                                          "body": _openai_error("simulated error")}, None))
                continue
            body = r.get("body") or {}
            text, tokens_in, tokens_out = self.answer(body)
            answer = _completion(body, text, tokens_in, tokens_out)
            outputs.append(self._line(r["custom_id"], {"status_code": 200, "request_id": "sim",
                                                       "body": answer}, None))
        self.rng.shuffle(outputs)
        batch.output_file_id = self._store(f"{batch.id}_output.jsonl", outputs) if outputs else None
        batch.error_file_id = self._store(f"{batch.id}_errors.jsonl", errors) if errors else None
        batch.completed, batch.failed = len(outputs), len(errors)
        batch.status = "completed"

    def _store(self, name: str, lines: list[dict[str, Any]]) -> str:
        file_id = f"file-sim{uuid.uuid4().hex[:20]}"
        self.files[file_id] = (name, "".join(json.dumps(x) + "\n" for x in lines).encode(), "batch_output")
        return file_id

    @staticmethod
    def _line(custom_id: str, response: dict[str, Any] | None,
              error: dict[str, Any] | None) -> dict[str, Any]:
        return {"id": f"batch_req_sim{uuid.uuid4().hex[:16]}", "custom_id": custom_id,
                "response": response, "error": error}

    def _file_view(self, file_id: str) -> dict[str, Any]:
        name, content, purpose = self.files[file_id]
        return {"id": file_id, "object": "file", "bytes": len(content), "created_at": int(time.time()),
                "filename": name, "purpose": purpose, "status": "processed"}

    @staticmethod
    def _view(batch: _OpenAIBatch) -> dict[str, Any]:
        ended = int(batch.ended) if batch.ended else None
        return {"id": batch.id, "object": "batch", "endpoint": batch.endpoint, "errors": None,
                "input_file_id": batch.input_file_id, "completion_window": "24h",
                "status": batch.status if batch.ended or batch.cancelled_at is None else "cancelling",
                "output_file_id": batch.output_file_id, "error_file_id": batch.error_file_id,
                "created_at": int(batch.created), "in_progress_at": int(batch.created),
                "expires_at": int(batch.created + EXPIRES_AFTER.total_seconds()),
                "finalizing_at": None, "completed_at": ended if batch.status == "completed" else None,
                "failed_at": None, "expired_at": ended if batch.status == "expired" else None,
                "cancelling_at": int(batch.cancelled_at) if batch.cancelled_at else None,
                "cancelled_at": ended if batch.status == "cancelled" else None,
                "request_counts": {"total": len(batch.lines), "completed": batch.completed,
                                   "failed": batch.failed},
                "metadata": batch.metadata}


def _completion(body: dict[str, Any], text: str, tokens_in: int, tokens_out: int) -> dict[str, Any]:
    return {"id": f"chatcmpl-sim{uuid.uuid4().hex[:16]}", "object": "chat.completion",
            "created": int(time.time()), "model": str(body.get("model", "")),
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                         "finish_reason": "stop"}],
            "usage": {"prompt_tokens": tokens_in, "completion_tokens": tokens_out,
                      "total_tokens": tokens_in + tokens_out}}


def _openai_error(message: str) -> dict[str, Any]:
    return {"error": {"message": message, "type": "invalid_request_error", "code": None}}
