"""The job kinds installed: found once, by name; the engine knows none of them by name.

A job kind is a package that exposes ``JOB: JobKind``. Kinds are found in the ``jobs`` package (every
sub-package) and in the ``runner.jobs`` entry-point group, so a kind can live in another distribution.
"""

from __future__ import annotations

import importlib
import pkgutil
from importlib.metadata import entry_points
from typing import Any

from runner.contract.jobkind import JobKind, OfflineResponder

ENTRY_POINT_GROUP = "runner.jobs"


_cache: dict[str, JobKind] | None = None


def job_kinds() -> dict[str, JobKind]:
    """All job kinds, by name (loaded once)."""
    global _cache
    if _cache is None:
        found: dict[str, JobKind] = {}
        import jobs

        for info in sorted(pkgutil.iter_modules(jobs.__path__), key=lambda m: m.name):
            if info.ispkg:
                _add(found, importlib.import_module(f"jobs.{info.name}"))
        for ep in entry_points(group=ENTRY_POINT_GROUP):
            _add(found, ep.load())
        _cache = found
    return _cache


def _add(found: dict[str, JobKind], module: Any) -> None:
    kind = getattr(module, "JOB", module)
    if isinstance(kind, JobKind):
        found.setdefault(kind.name, kind)


def all_responders() -> list[OfflineResponder]:
    """Every job kind's offline responders."""
    return [r for kind in job_kinds().values() for r in kind.offline_responders]
