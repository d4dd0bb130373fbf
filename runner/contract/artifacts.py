"""Artifacts as a job kind's steps see them: local files, wherever the batch keeps them.

A field of a step's input or output typed :data:`Artifact` (or a list of them) names a file or a
folder in the batch's artifact store (its ``output_dir``: a local folder, or a URL such as
``s3://bucket/prefix``). The step-activity decorator (:mod:`runner.activity.step`) hands the step
local paths: a file the input names is downloaded into the step's scratch folder first, and every
file the output names is published to the store before the step completes (whole, never half).
With a local ``output_dir`` nothing is copied: the paths are the files.

Steps that resume work across attempts, which may run on other machines, use :func:`fetch` and
:func:`publish`: the explainer's render publishes each scene as it finishes and fetches the ones an
earlier attempt published, so a retry renders only the rest.

No I/O here at import time: the functions act only inside a step activity.
"""

from __future__ import annotations

import os
from contextvars import ContextVar, Token
from typing import Annotated, Protocol


class ArtifactField:
    """Marks a ``str`` field as naming an artifact (see :data:`Artifact`)."""

    def __repr__(self) -> str:
        return "ArtifactField()"


ARTIFACT = ArtifactField()
Artifact = Annotated[str, ARTIFACT]


class StepFiles(Protocol):
    def fetch(self, path: str) -> bool: ...

    def publish(self, path: str) -> None: ...


class LocalFiles:
    """The batch's files are these paths: nothing to fetch or publish."""

    def fetch(self, path: str) -> bool:
        return os.path.isfile(path) and os.path.getsize(path) > 0

    def publish(self, path: str) -> None:
        return None


_LOCAL = LocalFiles()
_files: ContextVar[StepFiles | None] = ContextVar("runner_step_files", default=None)


def fetch(path: str) -> bool:
    """Whether the (non-empty) file at the local ``path`` exists, fetching it first from the
    batch's store if the store has it and this machine does not. Blocking: call it in a thread."""
    return (_files.get() or _LOCAL).fetch(path)


def publish(path: str) -> None:
    """Publish the local file ``path`` to the batch's store now, not only when the step completes
    (work a retry on another machine should find). Blocking: call it in a thread."""
    (_files.get() or _LOCAL).publish(path)


def use_files(files: StepFiles) -> Token[StepFiles | None]:
    """Make ``files`` what :func:`fetch` and :func:`publish` act on (the step-activity decorator,
    for the step it runs); undo with :func:`reset_files`."""
    return _files.set(files)


def reset_files(token: Token[StepFiles | None]) -> None:
    _files.reset(token)
