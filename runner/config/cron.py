"""Cron expressions as Temporal Schedules read them, checked before anything is sent.

Temporal's grammar: 5 fields (minute hour day-of-month month day-of-week), 6 (those and a year) or
7 (a second first, then those and a year); each field a comma list of ``*``, ``N``, ``N-M``, with
an optional ``/STEP``; month and weekday names (``jan``, ``mon``); weekday 0-7 (0 and 7 are
Sunday); and the shortcuts ``@hourly``, ``@daily`` (``@midnight``), ``@weekly``, ``@monthly``,
``@yearly`` (``@annually``). ``L``, ``W``, ``#`` and ``?`` are not supported. A time zone goes in
the manifest's ``timezone:``, an interval in ``every:``.
"""

from __future__ import annotations

import re

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
