"""Provider errors -> Temporal errors with the right retry meaning. The one place where that happens.

======================================  ====================================================
what the provider said                  what Temporal does
======================================  ====================================================
429 rate limited                        retry after exactly what the headers say (+ jitter);
                                        longer than the call's max_wait: next model (activity)
429/402 quota, credit or spend limit    ``QuotaExhausted``: not retried on this model
529 overloaded, 5xx, timeout, dropped   retried with the step's backoff
context window exceeded                 ``ContextWindowExceeded``: next model in the chain
400, 401, 403, 404, 413, 422            not retried on this model
TypeError/ValueError before any request not retried (a configuration error, e.g. no key)
anything else                           retried with the step's backoff
======================================  ====================================================
"""

from __future__ import annotations

import email.utils
import random
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from temporalio.exceptions import ApplicationError

from runner.step_activity import application_error

DEFAULT_RATE_LIMIT_WAIT_S = 10.0
JITTER = 0.1
QUOTA_WORDS = ("quota", "credit balance", "spend limit", "billing", "insufficient_quota",
               "budget exceeded")
CONTEXT_WORDS = ("context window", "context length", "context_length_exceeded", "too many tokens",
                 "prompt is too long", "maximum context")
NOT_RETRIED = {400: "BadRequest", 401: "AuthenticationFailed", 403: "PermissionDenied",
               404: "ModelNotFound", 413: "RequestTooLarge", 422: "BadRequest"}


def status_and_headers(exc: BaseException) -> tuple[int | None, Mapping[str, str]]:
    """The HTTP status and response headers an SDK exception carries, if any."""
    status = getattr(exc, "status_code", None)
    response = getattr(exc, "response", None)
    headers: Mapping[str, str] = {}
    if response is not None and getattr(response, "headers", None) is not None:
        headers = {k.lower(): v for k, v in response.headers.items()}
        status = status or getattr(response, "status_code", None)
    extra = getattr(exc, "litellm_response_headers", None)
    if extra:
        headers = {**{k.lower(): v for k, v in dict(extra).items()}, **headers}
    return (int(status) if isinstance(status, int) else None), headers


def _duration(text: str) -> float | None:
    """OpenAI-style reset durations: ``1s``, ``6m0s``, ``250ms``."""
    total, found = 0.0, False
    for value, unit in re.findall(r"([0-9.]+)(ms|s|m|h)", text):
        found = True
        total += float(value) * {"ms": 0.001, "s": 1, "m": 60, "h": 3600}[unit]
    return total if found else None


def retry_after(headers: Mapping[str, str], now: datetime | None = None) -> float | None:
    """Seconds the provider asks us to wait, from ``retry-after-ms``, ``retry-after`` or the
    rate-limit reset headers (Anthropic RFC 3339 times, OpenAI durations); None if none says."""
    now = now or datetime.now(UTC)
    if "retry-after-ms" in headers:
        try:
            return max(0.0, float(headers["retry-after-ms"]) / 1000)
        except ValueError:
            pass
    if "retry-after" in headers:
        value = headers["retry-after"].strip()
        try:
            return max(0.0, float(value))
        except ValueError:
            when = email.utils.parsedate_to_datetime(value) if value else None
            if when is not None:
                return max(0.0, (when - now).total_seconds())
    waits = []
    for kind in ("requests", "tokens", "input-tokens", "output-tokens"):
        reset = headers.get(f"anthropic-ratelimit-{kind}-reset")
        remaining = headers.get(f"anthropic-ratelimit-{kind}-remaining")
        if reset and remaining is not None and remaining.strip() == "0":
            try:
                waits.append((datetime.fromisoformat(reset.replace("Z", "+00:00")) - now).total_seconds())
            except ValueError:
                pass
        openai_reset = headers.get(f"x-ratelimit-reset-{kind}")
        if openai_reset and headers.get(f"x-ratelimit-remaining-{kind}", "").strip() == "0":
            seconds = _duration(openai_reset)
            if seconds is not None:
                waits.append(seconds)
    return max(0.0, max(waits)) if waits else None


def translate(exc: BaseException, *, model: str, secret: str | None = None) -> ApplicationError:
    """Translate a provider SDK exception into an ``ApplicationError`` (see the module table).

    Args:
        exc: what the SDK raised.
        model: the catalog name, for the message.
        secret: the API key in use: scrubbed from the message, whatever the provider echoed.
    """
    status, headers = status_and_headers(exc)
    name = type(exc).__name__
    text = str(exc)
    if secret:
        text = text.replace(secret, "***")
    lowered = text.lower()
    message = f"{model}: {name}" + (f" (HTTP {status})" if status else "") + f": {text[:500]}"

    if (status in (402, 429) and any(w in lowered for w in QUOTA_WORDS)) or "BudgetExceeded" in name:
        return application_error(message, type="QuotaExhausted", non_retryable=True)
    if status == 429 or name == "RateLimitError":
        wait = retry_after(headers)
        wait = DEFAULT_RATE_LIMIT_WAIT_S if wait is None else wait
        wait *= 1 + random.uniform(0, JITTER)
        return application_error(message, type="RateLimited",
                                 next_retry_delay=timedelta(seconds=max(wait, 0.05)))
    if "ContextWindowExceeded" in name or (status in (400, 413) and any(w in lowered for w in CONTEXT_WORDS)):
        return application_error(message, type="ContextWindowExceeded", non_retryable=True)
    if status in NOT_RETRIED:
        return application_error(message, type=NOT_RETRIED[status], non_retryable=True)
    if status is None and isinstance(exc, (TypeError, ValueError)):
        return application_error(message, type="ClientConfiguration", non_retryable=True)
    if (status is not None and status >= 500) or _transient(name):
        return application_error(message, type="ProviderUnavailable")
    return application_error(message, type=name)


def _transient(name: str) -> bool:
    return any(w in name for w in ("Timeout", "Connection", "Overloaded", "ServiceUnavailable",
                                   "InternalServer", "BadGateway"))

