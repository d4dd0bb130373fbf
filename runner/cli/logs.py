"""Logging for the CLI and workers: one readable line per event; full tracebacks only when verbose.

The Temporal SDK logs a full traceback for every failed activity attempt; with retries that buries
the progress display, so by default those records keep their message and the error's first line.
"""

from __future__ import annotations

import logging


class _OneLine(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and record.exc_info[1] is not None:
            err = record.exc_info[1]
            first = (str(err).strip().splitlines() or [type(err).__name__])[0]
            record.msg = f"{record.getMessage()}: {type(err).__name__}: {first}"
            record.args = None
            record.exc_info = None
            record.exc_text = None
        return True


def setup(*, verbose: bool = False) -> None:
    """Send warnings and errors (everything with ``verbose``) to stderr."""
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s",
                                           datefmt="%H:%M:%S"))
    if not verbose:
        handler.addFilter(_OneLine())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO if verbose else logging.WARNING)
