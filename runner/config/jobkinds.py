"""The job kinds installed: every ``runner.jobs`` entry point, loaded once, by name.

A job kind lives in any distribution that declares it (runner's own, ``jobs/``, included)::

    [project.entry-points."runner.jobs"]
    explainer = "jobs.explainer:JOB"

The entry point's name is the kind's name (``job:`` in a manifest) and it names a
:class:`runner.contract.jobkind.JobKind`.
"""

from __future__ import annotations

from importlib.metadata import entry_points

from runner.contract.errors import RunnerError
from runner.contract.jobkind import JobKind, OfflineResponder

ENTRY_POINT_GROUP = "runner.jobs"

_cache: dict[str, JobKind] | None = None


def job_kinds() -> dict[str, JobKind]:
    """All job kinds, by name (loaded once).

    Raises:
        RunnerError: an entry point that cannot be loaded, or does not name a job kind of its name.
    """
    global _cache
    if _cache is None:
        found: dict[str, JobKind] = {}
        for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
            if ep.name in found:  # the same kind installed twice: the first on the path wins
                continue
            try:
                kind = ep.load()
            except Exception as exc:
                raise RunnerError(f"job kind {ep.name!r} ({ep.value}) cannot be loaded: "
                                  f"{type(exc).__name__}: {exc}") from exc
            if not isinstance(kind, JobKind) or kind.name != ep.name:
                raise RunnerError(f"entry point {ep.name} = {ep.value} ({ENTRY_POINT_GROUP}) must name "
                                  f"a JobKind called {ep.name!r}")
            found[ep.name] = kind
        _cache = found
    return _cache


def all_responders() -> list[OfflineResponder]:
    """Every job kind's offline responders."""
    return [r for kind in job_kinds().values() for r in kind.offline_responders]
