"""Cron expressions as Temporal Schedules read them, checked before anything is sent.

Temporal's grammar: 5 fields (minute hour day-of-month month day-of-week), 6 (those and a year) or
7 (a second first, then those and a year); each field a comma list of ``*``, ``N``, ``N-M``, with
an optional ``/STEP``; month and weekday names (``jan``, ``mon``); weekday 0-7 (0 and 7 are
Sunday); and the shortcuts ``@hourly``, ``@daily`` (``@midnight``), ``@weekly``, ``@monthly``,
``@yearly`` (``@annually``). ``L``, ``W``, ``#`` and ``?`` are not supported. A time zone goes in
the manifest's ``timezone:``, an interval in ``every:``. :class:`ScheduleEntry` is the manifest's
``schedule:``.
"""

from __future__ import annotations

import re
import typing
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from runner.contract.policy import MAX_DURATION_S, Duration, format_duration

Overlap = Literal["skip", "buffer-one", "buffer-all", "cancel-other", "terminate-other", "allow-all"]
OVERLAPS: tuple[str, ...] = typing.get_args(Overlap)
MIN_EVERY_S = 1.0  # Temporal's shortest schedule interval

SHORTCUTS = ("@hourly", "@daily", "@midnight", "@weekly", "@monthly", "@yearly", "@annually")
MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
# name, lowest, highest, names (their index + lowest is the value)
SECOND = ("second", 0, 59, ())
MINUTE = ("minute", 0, 59, ())
HOUR = ("hour", 0, 23, ())
DOM = ("day of month", 1, 31, ())
MONTH = ("month", 1, 12, MONTHS)
DOW = ("day of week", 0, 7, DAYS)
YEAR = ("year", 2000, 2100, ())
LAYOUTS = {5: (MINUTE, HOUR, DOM, MONTH, DOW), 6: (MINUTE, HOUR, DOM, MONTH, DOW, YEAR),
           7: (SECOND, MINUTE, HOUR, DOM, MONTH, DOW, YEAR)}
FULL_NAMES = {"mon": "monday", "tue": "tuesday", "wed": "wednesday", "thu": "thursday",
              "fri": "friday", "sat": "saturday", "sun": "sunday", "jan": "january", "feb": "february",
              "mar": "march", "apr": "april", "jun": "june", "jul": "july", "aug": "august",
              "sep": "september", "oct": "october", "nov": "november", "dec": "december"}
ITEM = re.compile(r"^(?P<range>\*|[a-z0-9]+(?:-[a-z0-9]+)?)(?:/(?P<step>[0-9]+))?$")


def check_cron(expr: str) -> str:
    """Return ``expr`` stripped if Temporal can schedule it.

    Raises:
        ValueError: saying which field is wrong and why.
    """
    text = expr.strip()
    lowered = text.lower()
    if lowered.startswith("@"):
        if lowered.startswith("@every"):
            raise ValueError("use `every:` for an interval, not `@every` in `cron:`")
        if lowered not in SHORTCUTS:
            raise ValueError(f"unknown shortcut {text!r} (known: {', '.join(SHORTCUTS)})")
        return text
    if "=" in text:
        raise ValueError("put the time zone in `timezone:`, not in the cron expression")
    fields = lowered.split()
    layout = LAYOUTS.get(len(fields))
    if layout is None:
        raise ValueError(f"{text!r} has {len(fields)} field(s); a cron expression has 5 (minute "
                         "hour day-of-month month day-of-week), 6 (and a year) or 7 (a second first, "
                         "then the 6)")
    for value, field in zip(fields, layout, strict=True):
        _check_field(value, field)
    return text


def _check_field(value: str, field: tuple[str, int, int, tuple[str, ...]]) -> None:
    name, low, high, names = field
    for item in value.split(","):
        m = ITEM.match(item)
        if m is None:
            raise ValueError(f"{name} field {value!r}: {item!r} is not *, N, N-M or one of them "
                             "with /STEP (L, W, # and ? are not supported)")
        if m["step"] is not None and int(m["step"]) < 1:
            raise ValueError(f"{name} field {value!r}: a step must be at least 1")
        if m["range"] == "*":
            continue
        bounds = [_value(v, name, low, high, names) for v in m["range"].split("-")]
        if len(bounds) == 2 and bounds[0] > bounds[1]:
            raise ValueError(f"{name} field {value!r}: range {m['range']!r} runs backwards")


def _value(token: str, name: str, low: int, high: int, names: tuple[str, ...]) -> int:
    if token.isdigit():
        n = int(token)
        if not low <= n <= high:
            raise ValueError(f"{name} {n} is not in {low}-{high}")
        return n
    for i, known in enumerate(names):
        if len(token) >= 3 and _full(known).startswith(token):
            return i + low if names is MONTHS else i
    hint = f" or a name ({', '.join(names)})" if names else ""
    raise ValueError(f"{name} {token!r} is not a number in {low}-{high}{hint}")


def _full(short: str) -> str:
    """The English name that a three-letter month or weekday name starts (``mon`` -> ``monday``)."""
    return FULL_NAMES.get(short, short)


class ScheduleEntry(BaseModel):
    """When a batch runs by itself (`runner schedule apply`): a Temporal Schedule."""

    model_config = ConfigDict(extra="forbid", strict=True)
    cron: str | None = Field(default=None, description="a cron expression, e.g. `0 3 * * *` "
                             "(minute hour day-of-month month day-of-week), or @daily, @hourly, ...")
    every: Duration | None = Field(default=None, description="instead of cron: an interval, e.g. "
                                   "`6h` (at least 1s)")
    timezone: str = Field(default="UTC", description="IANA time zone the cron expression is read "
                          "in, e.g. Europe/Paris")
    overlap: Overlap = Field(default="skip", description="when a run is due while the last one "
                             "still runs: " + " | ".join(OVERLAPS))
    jitter: Duration | None = Field(default=None, description="start each run up to this much later, "
                                    "at random")
    catchup_window: Duration | None = Field(default=None, description="runs missed while the server "
                                            "was down are made up if at most this late (default 1 year)")
    paused: bool = Field(default=False, description="apply the schedule paused")

    @field_validator("cron")
    @classmethod
    def _cron(cls, v: str | None) -> str | None:
        return None if v is None else check_cron(v)

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, v: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {v!r} (an IANA name such as UTC or "
                             "Europe/Paris)") from None
        return v

    @field_validator("every", "jitter", "catchup_window")
    @classmethod
    def _bounded(cls, v: float | None) -> float | None:
        if v is not None and not v <= MAX_DURATION_S:  # also refuses nan and inf
            raise ValueError(f"must be at most 366d, got {v:g} s")
        return v

    def when(self) -> str:
        """``cron 0 3 * * *`` or ``every 6h``."""
        return f"cron {self.cron}" if self.cron else f"every {format_duration(self.every or 0)}"

    @model_validator(mode="after")
    def _when(self) -> ScheduleEntry:
        if (self.cron is None) == (self.every is None):
            raise ValueError("give exactly one of `cron:` and `every:`")
        if self.every is not None and self.every < MIN_EVERY_S:
            raise ValueError(f"every: must be at least 1s, got {self.every:g} s")
        return self
