"""Turn pydantic validation errors into located, human-worded manifest problems (one place for both
manifests and the model catalog)."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from pydantic import ValidationError

from runner.config.yamlsource import PathKey, YamlSource
from runner.contract.errors import Problem

AllowedKeys = Callable[[PathKey], Iterable[str] | None]


def problems_from(
    exc: ValidationError, source: YamlSource, *, allowed_keys: AllowedKeys | None = None
) -> list[Problem]:
    """One :class:`Problem` per pydantic error, in file order.

    Args:
        exc: the validation error.
        source: the YAML the data came from (for lines).
        allowed_keys: given the path of a mapping, the keys it may hold (named in "unknown key" messages).
    """
    problems = []
    for err in exc.errors(include_url=False):
        loc: PathKey = tuple(err["loc"])
        problems.append(source.problem(loc, _wording(err, loc, allowed_keys)))
    problems.sort(key=lambda p: (p.line or 0, p.path))
    return problems


def _wording(err: object, loc: PathKey, allowed_keys: AllowedKeys | None) -> str:
    assert isinstance(err, dict)
    kind = err["type"]
    ctx = err.get("ctx") or {}
    if kind == "missing":
        return "required key is missing"
    if kind == "extra_forbidden":
        allowed = allowed_keys(loc[:-1]) if allowed_keys else None
        return f"unknown key (allowed: {', '.join(sorted(allowed))})" if allowed else "unknown key"
    if kind == "literal_error":
        expected = str(ctx.get("expected", "")).replace("'", "").replace(" or ", ", ")
        return f"must be one of {expected}"
    if kind == "too_short" and ctx.get("min_length") == 1:
        return "must not be empty"
    msg = str(err["msg"])
    if msg.startswith("Value error, "):
        return msg[len("Value error, "):]
    if msg.startswith("Input should be "):
        return "must be " + msg[len("Input should be "):]
    return msg[:1].lower() + msg[1:]
