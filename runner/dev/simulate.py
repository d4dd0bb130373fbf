"""A provider simulator on loopback: the Anthropic Messages API (``POST /v1/messages``) and the OpenAI
chat-completions API (``POST /v1/chat/completions``), answered by the offline provider, the OpenAI
speech API (``POST /v1/audio/speech``), spoken by espeak-ng, and the batch APIs: Anthropic's Message
Batches (``/v1/messages/batches``) and OpenAI's files and batches (``/v1/files``, ``/v1/batches``),
in :mod:`runner.dev.batches`.

It enforces token-bucket ``rpm`` / ``tpm`` limits with realistic 429s (``retry-after``,
``anthropic-ratelimit-*`` or ``x-ratelimit-*`` headers), injects faults (529/503 at a rate, latency,
hung requests, models that always answer 401 or 404, the first N requests rate-limited), and logs
every request with its time. Users rehearse a batch against their limits; tests and benchmarks point
the real SDK clients at it.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import subprocess
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from runner.activity.llm.activity import espeak_argv
from runner.activity.llm.offline import offline_answer
from runner.activity.llm.pacing import CHARS_PER_TOKEN, TokenBucket, estimate_input_tokens
from runner.contract.jobkind import OfflineResponder
from runner.contract.llm import LLMRequest, Message
from runner.dev.batches import (
    BATCHES_PATH,
    OPENAI_BATCHES_PATH,
    OPENAI_FILES_PATH,
    MessageBatches,
    OpenAIBatches,
)

ANTHROPIC_PATH = "/v1/messages"
OPENAI_PATH = "/v1/chat/completions"
SPEECH_PATH = "/v1/audio/speech"
# OpenAI's voices, as espeak-ng voices (variants: m = male, f = female)
VOICES = {"alloy": "en-us", "ash": "en-us+m2", "ballad": "en-gb+m3", "coral": "en-us+f2",
          "echo": "en-us+m3", "fable": "en-gb", "nova": "en-us+f3", "onyx": "en-us+m7",
          "sage": "en-us+f4", "shimmer": "en-us+f1", "verse": "en-us+m4"}
# response_format -> the ffmpeg output options that make it from espeak-ng's WAV (wav: as it is)
AUDIO_FORMATS = {"wav": None, "mp3": ["-f", "mp3"], "opus": ["-c:a", "libopus", "-f", "ogg"],
                 "aac": ["-c:a", "aac", "-f", "adts"], "flac": ["-f", "flac"],
                 "pcm": ["-ar", "24000", "-ac", "1", "-f", "s16le"]}
CONTENT_TYPES = {"mp3": "audio/mpeg", "pcm": "audio/pcm", "opus": "audio/ogg"}
MAX_SPEECH_CHARS = 4096  # OpenAI's limit on one speech input


@dataclass
class SimConfig:
    """What the simulator enforces and injects."""

    rpm: int | None = None
    tpm: int | None = None
    fail_rate: float = 0.0
    latency_s: float = 0.0
    timeout_rate: float = 0.0
    hang_s: float = 300.0
    rate_limit_first: int = 0
    retry_after_s: float = 3.0
    model_status: dict[str, int] = field(default_factory=dict)
    log: Path | None = None
    seed: int = 0
    batch_delay_s: float = 5.0  # Message Batches: how long a batch takes
    batch_error_rate: float = 0.0  # ... the share of its requests that come back errored
    batch_expire: bool = False  # ... every request expires instead


# Seconds' worth of requests or tokens the simulated provider lets through at once (like a provider's
# continuous replenishment: a minute's limit is not available at once).
BURST_S = 2.0


class Simulator:
    """The simulator server; ``start()`` it, point clients at ``base_url``, ``stop()`` it."""

    def __init__(self, config: SimConfig, responders: list[OfflineResponder] | None = None, *,
                 host: str = "127.0.0.1", port: int = 0) -> None:
        if responders is None:
            from runner.config.jobkinds import all_responders

            responders = all_responders()
        self.config = config
        self.responders = responders
        self.lock = threading.Lock()
        self.rng = random.Random(config.seed)
        self.rpm = TokenBucket(config.rpm, BURST_S) if config.rpm else None
        self.tpm = TokenBucket(config.tpm, BURST_S) if config.tpm else None
        self.count = 0
        self.requests: list[dict[str, Any]] = []
        self.prompt_cache = PromptCache()
        self.batches = MessageBatches(self._batch_answer, self.prompt_cache.usage,
                                      delay_s=config.batch_delay_s, error_rate=config.batch_error_rate,
                                      expire=config.batch_expire, rng=random.Random(config.seed + 1))
        self.openai_batches = OpenAIBatches(self._openai_batch_answer, delay_s=config.batch_delay_s,
                                            error_rate=config.batch_error_rate,
                                            expire=config.batch_expire, rng=random.Random(config.seed + 2))
        self.server = ThreadingHTTPServer((host, port), self._handler())
        self.server.daemon_threads = True
        self.thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Simulator:
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _record(self, entry: dict[str, Any]) -> None:
        with self.lock:
            self.requests.append(entry)
            if self.config.log is not None:
                with open(self.config.log, "a", encoding="utf-8") as f:
                    f.write(json.dumps(entry) + "\n")

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        sim = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # quiet: the log is the record
                pass

            def do_POST(self) -> None:
                sim._serve(self)

            def do_GET(self) -> None:
                if self.path.startswith((OPENAI_FILES_PATH, OPENAI_BATCHES_PATH)):
                    sim._serve_openai_batches(self, "GET", b"")
                else:
                    sim._serve_batches(self, "GET", {})

        return Handler

    def _serve(self, h: BaseHTTPRequestHandler) -> None:
        started = time.time()
        raw = h.rfile.read(int(h.headers.get("content-length") or 0))
        if h.path.startswith((OPENAI_FILES_PATH, OPENAI_BATCHES_PATH)):
            return self._serve_openai_batches(h, "POST", raw)
        body = json.loads(raw or b"{}")
        if h.path.rstrip("/").endswith(SPEECH_PATH):
            return self._speak(h, body, started)
        if h.path.startswith(BATCHES_PATH):
            return self._serve_batches(h, "POST", body)
        flavour = "anthropic" if h.path.rstrip("/").endswith("/messages") else "openai"
        if not (h.path.endswith(ANTHROPIC_PATH) or h.path.endswith(OPENAI_PATH)):
            return self._send(h, 404, {"error": {"type": "not_found_error", "message": "no such path"}})
        model = str(body.get("model", ""))
        request = _request_from(body, flavour)
        input_tokens = estimate_input_tokens(request)  # four characters a token
        entry = {"t": started, "api": flavour, "model": model, "input_tokens": input_tokens,
                 # which request this is (a repeated one has the same digest), not what it says
                 "digest": hashlib.sha256(request.model_dump_json().encode()).hexdigest()[:16]}
        key = h.headers.get("x-api-key") or (h.headers.get("authorization") or "").removeprefix("Bearer ")

        status, wait, headers = self._admit(model, key, input_tokens, flavour)
        if status != 200:
            return self._refuse(h, entry, flavour, (status, wait, headers), key)
        if self.config.latency_s:
            time.sleep(self.config.latency_s)
        text, usage = offline_answer(request, self.responders)
        if self.tpm:
            with self.lock:
                self.tpm.take(usage.output_tokens)
        entry.update(status=200, output_tokens=usage.output_tokens)
        self._record(entry)
        inputs = self.prompt_cache.usage(body, input_tokens) if flavour == "anthropic" else None
        self._send(h, 200, _answer_body(flavour, model, text, input_tokens, usage.output_tokens, inputs),
                   headers)

    def _serve_batches(self, h: BaseHTTPRequestHandler, method: str, body: dict[str, Any]) -> None:
        """The Message Batches API (see :mod:`runner.dev.batches`): create and cancel (POST),
        retrieve, results and list (GET)."""
        path = h.path.split("?")[0].rstrip("/")
        parts = (path.removeprefix(BATCHES_PATH).strip("/").split("/") if path.startswith(BATCHES_PATH)
                 else None)
        base = f"http://{h.headers.get('host') or f'127.0.0.1:{self.port}'}"
        entry: dict[str, Any] = {"t": time.time(), "api": "batch"}
        if parts is None:
            op, status, answer = "?", 404, {"type": "error", "error": {"type": "not_found_error",
                                                                     "message": "no such path"}}
        elif not (h.headers.get("x-api-key") or h.headers.get("authorization")):
            op, status, answer = "?", 401, _error_body("anthropic", 401, 0)
        elif method == "POST" and parts == [""]:
            op = "create"
            status, answer = self.batches.create(body)
            entry["requests"] = len(body.get("requests") or [])
        elif method == "POST" and len(parts) == 2 and parts[1] == "cancel":
            op = "cancel"
            status, answer = self.batches.cancel(parts[0], base)
        elif method == "GET" and parts == [""]:
            op, status, answer = "list", 200, self.batches.listing(base)
        elif method == "GET" and len(parts) == 1:
            op = "retrieve"
            status, answer = self.batches.retrieve(parts[0], base)
        elif method == "GET" and len(parts) == 2 and parts[1] == "results":
            op = "results"
            status, found = self.batches.results(parts[0])
            if status == 200 and isinstance(found, list):
                entry.update(op=op, batch=parts[0], status=200, results=len(found))
                self._record(entry)
                data = "".join(json.dumps(r) + "\n" for r in found).encode()
                return self._send(h, 200, data, None, "application/x-jsonl")
            answer = found if isinstance(found, dict) else {}
        else:
            op, status, answer = "?", 404, {"type": "error", "error": {"type": "not_found_error",
                                                                     "message": "no such path"}}
        entry.update(op=op, batch=answer.get("id") or (parts[0] if parts else None), status=status)
        self._record(entry)
        self._send(h, status, answer)

    def _serve_openai_batches(self, h: BaseHTTPRequestHandler, method: str, raw: bytes) -> None:
        """OpenAI's Batch API (see :class:`runner.dev.batches.OpenAIBatches`): files (upload,
        retrieve, content) and batches (create, retrieve, cancel, list)."""
        path = h.path.split("?")[0].rstrip("/")
        files = path.startswith(OPENAI_FILES_PATH)
        parts = path.removeprefix(OPENAI_FILES_PATH if files else OPENAI_BATCHES_PATH).strip("/").split("/")
        entry: dict[str, Any] = {"t": time.time(), "api": "openai-batch"}
        api = self.openai_batches
        content: bytes | None = None
        if not h.headers.get("authorization"):
            op, status, answer = "?", 401, _error_body("openai", 401, 0)
        elif files and method == "POST" and parts == [""]:
            op = "upload"
            name, data, purpose = _multipart_file(h.headers.get("content-type") or "", raw)
            status, answer = api.upload(name, data, purpose)
        elif files and method == "GET" and len(parts) == 2 and parts[1] == "content":
            op = "content"
            status, found = api.content(parts[0])
            content, answer = (found, {}) if isinstance(found, bytes) else (None, found)
        elif files and method == "GET" and len(parts) == 1 and parts[0] in api.files:
            op, status, answer = "file", 200, api._file_view(parts[0])
        elif not files and method == "POST" and parts == [""]:
            op = "create"
            status, answer = api.create(json.loads(raw or b"{}"))
        elif not files and method == "POST" and len(parts) == 2 and parts[1] == "cancel":
            op = "cancel"
            status, answer = api.cancel(parts[0])
        elif not files and method == "GET" and parts == [""]:
            op, status, answer = "list", 200, api.listing()
        elif not files and method == "GET" and len(parts) == 1:
            op = "retrieve"
            status, answer = api.retrieve(parts[0])
        else:
            op, status, answer = "?", 404, {"error": {"message": "no such path", "type": "not_found"}}
        entry.update(op=op, id=answer.get("id") or (parts[0] or None), status=status)
        self._record(entry)
        if content is not None:
            return self._send(h, 200, content, None, "application/jsonl")
        self._send(h, status, answer)

    def _batch_answer(self, params: dict[str, Any]) -> tuple[str, int, int]:
        """One request of a Message Batch, answered like a chat request."""
        request = _request_from(params, "anthropic")
        text, usage = offline_answer(request, self.responders)
        return text, estimate_input_tokens(request), usage.output_tokens

    def _openai_batch_answer(self, body: dict[str, Any]) -> tuple[str, int, int]:
        """One line of an OpenAI batch, answered like a chat-completions request."""
        request = _request_from(body, "openai")
        text, usage = offline_answer(request, self.responders)
        return text, estimate_input_tokens(request), usage.output_tokens

    def _speak(self, h: BaseHTTPRequestHandler, body: dict[str, Any], started: float) -> None:
        """``POST /v1/audio/speech``: the input spoken by espeak-ng in the voice's espeak-ng
        counterpart, in the asked format (default mp3, as OpenAI's), under the same limits and faults
        as chat requests (a character counts as a quarter token)."""
        model, text = str(body.get("model", "")), str(body.get("input", ""))
        voice, form = str(body.get("voice", "")), str(body.get("response_format") or "mp3")
        entry = {"t": started, "api": "speech", "model": model, "characters": len(text),
                 "digest": hashlib.sha256(json.dumps([model, text, voice]).encode()).hexdigest()[:16]}
        problem = ("input is empty" if not text.strip() else
                   f"input is longer than {MAX_SPEECH_CHARS} characters" if len(text) > MAX_SPEECH_CHARS else
                   f"voice {voice!r} is not one of {', '.join(VOICES)}" if voice not in VOICES else
                   f"response_format {form!r} is not one of {', '.join(AUDIO_FORMATS)}"
                   if form not in AUDIO_FORMATS else None)
        key = (h.headers.get("authorization") or "").removeprefix("Bearer ")
        status, wait, headers = self._admit(model, key, max(1, len(text) // 4), "openai")
        if status == 200 and problem:
            status = 400
        if status != 200:
            return self._refuse(h, entry, "openai", (status, wait, headers), key, problem)
        if self.config.latency_s:
            time.sleep(self.config.latency_s)
        try:
            audio = _espeak(text, VOICES[voice], AUDIO_FORMATS[form])
        except (OSError, subprocess.SubprocessError) as exc:  # espeak-ng or ffmpeg missing or failing
            entry.update(status=500)
            self._record(entry)
            return self._send(h, 500, {"error": {"message": f"the simulator could not speak: {exc}",
                                                 "type": "server_error", "code": "server_error"}})
        entry.update(status=200, bytes=len(audio))
        self._record(entry)
        self._send(h, 200, audio, headers, CONTENT_TYPES.get(form, f"audio/{form}"))

    def _refuse(self, h: BaseHTTPRequestHandler, entry: dict[str, Any], flavour: str,
                fate: tuple[int, float, dict[str, str]], key: str, problem: str | None = None) -> None:
        """Answer with the error ``fate`` (status, seconds to wait, headers) decided, and log it."""
        status, wait, headers = fate
        entry.update(status=status)
        self._record(entry)
        body = _error_body(flavour, status, wait)
        if problem is not None and status == 400:
            body["error"].update(message=problem, type="invalid_request_error")
        if status == 401:  # like some real providers, echo the key: it must never reach a report
            body["error"]["message"] += f"; key provided: {key}"
        self._send(h, status, body, headers)

    def _admit(self, model: str, key: str, tokens: int, flavour: str) -> tuple[int, float, dict[str, str]]:
        """Decide a request's fate: (status, seconds to wait if limited, headers)."""
        cfg = self.config
        with self.lock:
            self.count += 1
            n = self.count
            roll = self.rng.random()
        if not key:
            return 401, 0, {}
        if model in cfg.model_status:
            return cfg.model_status[model], 0, {}
        if n <= cfg.rate_limit_first:
            return 429, cfg.retry_after_s, _limit_headers(flavour, cfg.retry_after_s, "requests")
        with self.lock:
            for bucket, units, kind in ((self.rpm, 1, "requests"), (self.tpm, tokens, "tokens")):
                if bucket is not None:
                    wait = bucket.wait_for(units)
                    if wait > 0:
                        return 429, wait, _limit_headers(flavour, wait, kind)
            if self.rpm:
                self.rpm.take(1)
            if self.tpm:
                self.tpm.take(tokens)
            headers = {}
            if self.rpm and flavour == "anthropic":
                headers = {"anthropic-ratelimit-requests-limit": str(cfg.rpm),
                           "anthropic-ratelimit-requests-remaining": str(self.rpm.remaining())}
        if roll < cfg.fail_rate:
            return (529 if flavour == "anthropic" else 503), 0, {}
        if roll < cfg.fail_rate + cfg.timeout_rate:
            time.sleep(cfg.hang_s)
        return 200, 0, headers

    @staticmethod
    def _send(h: BaseHTTPRequestHandler, status: int, body: dict[str, Any] | bytes,
              headers: dict[str, str] | None = None, content_type: str = "application/json") -> None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        try:
            h.send_response(status)
            h.send_header("content-type", content_type)
            h.send_header("content-length", str(len(data)))
            for k, v in (headers or {}).items():
                h.send_header(k, v)
            h.end_headers()
            h.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (a timeout)
            pass


def _espeak(text: str, voice: str, convert: list[str] | None) -> bytes:
    """``text`` spoken by espeak-ng as WAV, converted by ffmpeg with ``convert``'s options."""
    wav = subprocess.run(espeak_argv(text, voice), capture_output=True, check=True, timeout=120).stdout
    if convert is None:
        return wav
    return subprocess.run(["ffmpeg", "-v", "error", "-i", "pipe:0", *convert, "pipe:1"], input=wav,
                          capture_output=True, check=True, timeout=120).stdout


def _multipart_file(content_type: str, raw: bytes) -> tuple[str, bytes, str]:
    """The file and its ``purpose`` in a multipart/form-data upload: (name, bytes, purpose)."""
    from email.parser import BytesParser
    from email.policy import default

    message = BytesParser(policy=default).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + raw)
    name, data, purpose = "upload.jsonl", b"", ""
    for part in message.iter_parts():
        field = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        value = payload if isinstance(payload, bytes) else b""
        if field == "file":
            name = part.get_filename() or name
            data = value
        elif field == "purpose":
            purpose = value.decode(errors="replace").strip()
    return name, data, purpose


CACHE_MIN_TOKENS = 1024  # Anthropic's shortest cacheable prompt (Opus, Sonnet)


class PromptCache:
    """Anthropic's prompt caching, as the simulator keeps it: a system prompt whose blocks carry
    ``cache_control``, of at least CACHE_MIN_TOKENS up to its last marked block, is written to the
    cache by the first request that sends it (``cache_creation_input_tokens``) and read by the next
    ones (``cache_read_input_tokens``); ``input_tokens`` is what is left. Kept for the simulator's
    life (a real cache entry lives five minutes from its last use)."""

    def __init__(self) -> None:
        self.seen: set[str] = set()
        self.lock = threading.Lock()

    def usage(self, body: dict[str, Any], tokens_in: int) -> dict[str, int]:
        system = body.get("system")
        blocks = [b for b in system if isinstance(b, dict)] if isinstance(system, list) else []
        marked = [i for i, b in enumerate(blocks) if b.get("cache_control")]
        prefix = "".join(str(b.get("text", "")) for b in blocks[:marked[-1] + 1]) if marked else ""
        cached = len(prefix) // CHARS_PER_TOKEN
        if cached < CACHE_MIN_TOKENS:
            return {"input_tokens": tokens_in}
        key = hashlib.sha256(f"{body.get('model')}\n{prefix}".encode()).hexdigest()
        with self.lock:
            hit = key in self.seen
            self.seen.add(key)
        return {"input_tokens": max(0, tokens_in - cached),
                "cache_creation_input_tokens": 0 if hit else cached,
                "cache_read_input_tokens": cached if hit else 0}


def _request_from(body: dict[str, Any], flavour: str) -> LLMRequest:
    system = body.get("system") or ""
    if isinstance(system, list):
        system = "".join(b.get("text", "") for b in system if isinstance(b, dict))
    messages = []
    for m in body.get("messages", []):
        content = m.get("content", "")
        if isinstance(content, list):
            content = "".join(b.get("text", "") for b in content if isinstance(b, dict))
        if m.get("role") == "system":
            system += str(content)
        elif m.get("role") in ("user", "assistant"):
            messages.append(Message(role=m["role"], content=str(content)))
    return LLMRequest(system=str(system), messages=messages or [Message(role="user", content="")],
                      max_tokens=int(body.get("max_tokens") or 1024))


def _limit_headers(flavour: str, wait: float, kind: str) -> dict[str, str]:
    seconds = max(1, math.ceil(wait))
    reset = (datetime.now(UTC) + timedelta(seconds=wait)).isoformat().replace("+00:00", "Z")
    if flavour == "anthropic":
        return {"retry-after": str(seconds), f"anthropic-ratelimit-{kind}-remaining": "0",
                f"anthropic-ratelimit-{kind}-reset": reset}
    return {"retry-after": str(seconds), "retry-after-ms": str(int(wait * 1000)),
            f"x-ratelimit-remaining-{kind}": "0", f"x-ratelimit-reset-{kind}": f"{wait:.3f}s"}


ERRORS = {400: ("invalid_request_error", "invalid request"),
          401: ("authentication_error", "invalid x-api-key"),
          404: ("not_found_error", "model not found"),
          429: ("rate_limit_error", "rate limit exceeded"),
          503: ("api_error", "service unavailable"),
          529: ("overloaded_error", "Overloaded")}


def _error_body(flavour: str, status: int, wait: float) -> dict[str, Any]:
    kind, message = ERRORS.get(status, ("api_error", f"error {status}"))
    if status == 429:
        message = f"rate limit exceeded; retry in {wait:.2f} s"
    if flavour == "anthropic":
        return {"type": "error", "error": {"type": kind, "message": message}}
    return {"error": {"message": message, "type": kind, "code": kind}}


def _answer_body(flavour: str, model: str, text: str, tokens_in: int, tokens_out: int,
                 inputs: dict[str, int] | None = None) -> dict[str, Any]:
    ident = f"sim-{time.monotonic_ns()}"
    if flavour == "anthropic":
        return {"id": ident, "type": "message", "role": "assistant", "model": model,
                "content": [{"type": "text", "text": text}], "stop_reason": "end_turn",
                "stop_sequence": None,
                "usage": {**(inputs or {"input_tokens": tokens_in}), "output_tokens": tokens_out}}
    return {"id": ident, "object": "chat.completion", "created": int(time.time()), "model": model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                         "finish_reason": "stop"}],
            "usage": {"prompt_tokens": tokens_in, "completion_tokens": tokens_out,
                      "total_tokens": tokens_in + tokens_out}}
