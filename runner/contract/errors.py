"""The one error tree of runner.

::

    RunnerError                 exit 1 unless a subclass says otherwise
    ├── UsageError              exit 2: the user asked for something that cannot be (bad flag combo, ...)
    │   └── ManifestError       exit 2: a manifest (or catalog) has problems; carries every problem
    ├── ServerError             the embedded Temporal server could not be started, reached or stopped
    ├── ConnectionFailed        a configured Temporal endpoint could not be reached
    ├── BatchFailed             a batch ended with failed topics (the report says which)
    └── StepError               a pipeline step failed inside an activity; Temporal retries it
        └── PermanentStepError  ... and retrying cannot help (bad model output, code error, ...)

Every error knows its exit code and how to show itself in one line, so the CLI only maps the tree to
``click`` exits. Errors inside activities are translated into Temporal ``ApplicationError`` s with their
retry meaning by :func:`runner.activity.step.to_application_error`; :func:`failure_message` reads
what went wrong back out of Temporal's wrappers.
"""

from __future__ import annotations

from dataclasses import dataclass

from temporalio.exceptions import ActivityError, ChildWorkflowError


class RunnerError(Exception):
    """Base of every error runner raises on purpose."""

    exit_code = 1
    shown = False  # True when the user has already been told (the CLI then only exits)

    def format(self) -> str:
        """One-line (or, for manifests, one-line-per-problem) message for the terminal."""
        return str(self)


class UsageError(RunnerError):
    """The request cannot be carried out as asked."""

    exit_code = 2


@dataclass(frozen=True)
class Problem:
    """One problem found in a YAML file, located as precisely as the file allows."""

    file: str
    line: int | None
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"


class ManifestError(UsageError):
    """A manifest or catalog with one or more problems; all of them are reported at once."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))

    def format(self) -> str:
        n = len(self.problems)
        head = f"{n} problem{'s' if n != 1 else ''} found; nothing was started."
        return "\n".join([*(str(p) for p in self.problems), head])


class ServerError(RunnerError):
    """The embedded Temporal dev server could not be managed."""


class ConnectionFailed(RunnerError):
    """A Temporal endpoint could not be reached."""


class BatchFailed(RunnerError):
    """A batch finished, but not every topic succeeded."""


class StepError(RunnerError):
    """A pipeline step failed; worth retrying (I/O, a crashed subprocess, a timeout)."""

    retryable = True


class PermanentStepError(StepError):
    """A pipeline step failed in a way that the same input will always reproduce."""

    retryable = False


def failure_message(err: BaseException) -> str:
    """The message that says what went wrong: Temporal's wrappers (an activity or child workflow
    failed) are looked through, down to the first error that carries its own message."""
    cause: BaseException = err
    while isinstance(cause, (ActivityError, ChildWorkflowError)) and cause.__cause__ is not None:
        cause = cause.__cause__
    return getattr(cause, "message", None) or str(cause)


def first_line(text: str | None, limit: int = 300) -> str:
    """The first non-empty line of ``text``, at most ``limit`` characters."""
    for line in (text or "").splitlines():
        if line.strip():
            return line.strip()[:limit]
    return ""
