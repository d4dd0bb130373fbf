"""Provider errors -> Temporal errors with the right retry meaning. The one place where that happens.

======================================  ====================================================
what the provider said                  what Temporal does
======================================  ====================================================
429 rate limited                        retry after exactly what the headers say (+ jitter);
                                        longer than the call's max_wait: next model
402, quota/spend/credit codes           ``QuotaExhausted``: not retried on this model
529 overloaded, 5xx, timeout, dropped   retried with the step's backoff
context window exceeded                 ``ContextWindowExceeded``: next model in the chain
400, 401, 403, 404, 413, 422            not retried on this model
TypeError/ValueError before any request not retried (a configuration error, e.g. no key)
anything else                           retried with the step's backoff
======================================  ====================================================
"""

from __future__ import annotations

import email.utils
import os
import random
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from temporalio.exceptions import ApplicationError

from runner.activity.step import application_error
from runner.contract.names import QUOTA_EXHAUSTED

DEFAULT_RATE_LIMIT_WAIT_S = 10.0
JITTER = 0.1
# Quota / spend exhaustion, recognised by providers' structured codes (anthropic ``error_code``,
# OpenAI-style ``code``) or their exact tokens in the text; never by the bare word "quota", which
# ordinary per-minute throttling messages contain too (Azure, Vertex).
QUOTA_CODES = ("insufficient_quota", "enforced_spend_limit_reached", "spend_limit_reached",
               "budget_exceeded", "billing_hard_limit_reached")
QUOTA_PHRASES = ("credit balance is too low", "insufficient_quota", "exceeded your current quota")
SECRET_NAME = re.compile(r"(KEY|TOKEN|SECRET|PASSWORD)$")
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
    rate-limit reset headers (Anthropic RFC 3339 times, OpenAI durations); None if none says, or
    if what it says cannot be read."""
    try:
        return _retry_after(headers, now or datetime.now(UTC))
    except (ValueError, TypeError, OverflowError):
        return None


def _retry_after(headers: Mapping[str, str], now: datetime) -> float | None:
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
                when = when if when.tzinfo else when.replace(tzinfo=UTC)
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


def environment_secrets() -> list[str]:
    """Values of environment variables named like secrets (..._KEY, ..._TOKEN, ...): SDKs read some
    of them by themselves (ANTHROPIC_API_KEY, OPENAI_API_KEY), so they are scrubbed too."""
    return [v.strip() for k, v in os.environ.items()
            if SECRET_NAME.search(k.upper()) and len(v.strip()) >= 8]


def scrub(text: str, secrets: list[str]) -> str:
    """``text`` with every secret replaced by ``***`` (longest first)."""
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, "***")
    return text


def translate(exc: BaseException, *, model: str, secret: str | None = None,
              max_wait_s: float | None = None) -> ApplicationError:
    """Translate a provider SDK exception into an ``ApplicationError`` (see the module table).
    Never raises.

    Args:
        exc: what the SDK raised.
        model: the catalog name, for the message.
        secret: the API key in use; it and every secret-named environment variable's value are
            scrubbed from the message, whatever the provider echoed.
        max_wait_s: a rate limit asking for a longer wait (before jitter) hands the call to the next
            model (``WaitTooLong``, not retried on this one).
    """
    status, headers = status_and_headers(exc)
    name = type(exc).__name__
    text = scrub(str(exc), [*([secret.strip()] if secret else []), *environment_secrets()])
    lowered = text.lower()
    message = f"{model}: {name}" + (f" (HTTP {status})" if status else "") + f": {text[:500]}"
    codes = {str(getattr(exc, attr, "") or "").lower() for attr in ("error_code", "code", "type")}

    if (status == 402 or codes & set(QUOTA_CODES) or any(p in lowered for p in QUOTA_PHRASES)
            or any(w in name for w in ("SpendLimit", "BudgetExceeded", "PaymentRequired"))):
        return application_error(message, type=QUOTA_EXHAUSTED, non_retryable=True)
    if status == 429 or name == "RateLimitError":
        asked = retry_after(headers)
        wait = DEFAULT_RATE_LIMIT_WAIT_S if asked is None else asked
        if max_wait_s is not None and wait > max_wait_s:
            return application_error(f"{model}: asks to wait {wait:.0f} s, more than max_wait "
                                     f"{max_wait_s:.0f} s", type="WaitTooLong", non_retryable=True)
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

