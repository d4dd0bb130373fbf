"""The ``tally`` job kind: a third-party kind that lives only in runner's tests.

It is installed the way any distribution adds a kind: ``runner_tally-0.1.dist-info/entry_points.txt``
beside this package declares it in the ``runner.jobs`` group, so putting ``tests/kinds`` on the
Python path is all it takes. Two steps: ``count`` asks a model for the number of words in the topic,
``write`` writes ``<id>.json`` with the count.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from runner.contract.jobkind import JobKind
from tally.types import FORMAT, TallyOptions
from tally.workflow import TallyWorkflow


def _activities() -> Sequence[Callable[..., Any]]:
    from tally.activities import write

    return [write]


def _offline(system: str, user: str) -> str | None:
    """The offline model's answer: the number of words after ``Topic:``."""
    if f"FORMAT: {FORMAT}" not in system:
        return None
    topic = re.sub(r"^Topic:\s*", "", user.strip())
    return str(len(topic.split()))


JOB = JobKind(
    name="tally",
    summary="counts the words of each topic (a test kind)",
    workflow=TallyWorkflow,
    options=TallyOptions,
    activities=_activities,
    offline_responders=(_offline,),
)
