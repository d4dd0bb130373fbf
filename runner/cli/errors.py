"""How the command line reports errors: runner's error tree mapped to one message and an exit code."""

from __future__ import annotations

import functools
import sys
import traceback
from collections.abc import Callable
from typing import Any, TypeVar

import click
from temporalio.service import RPCError

from runner.contract.errors import RunnerError

F = TypeVar("F", bound=Callable[..., Any])

_verbose = False


def set_verbose(verbose: bool) -> None:
    """With ``verbose``, failures show their traceback."""
    global _verbose
    _verbose = verbose


def reports_errors(fn: F) -> F:
    """Turn every error into one message on stderr and an exit code (a traceback only with -v).

    runner's own errors carry their exit code; Temporal's RPC errors and anything unexpected exit 1.
    """

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        caught: BaseException
        try:
            return fn(*args, **kwargs)
        except RunnerError as exc:
            if not exc.shown:
                click.echo(f"error: {exc.format()}" if exc.exit_code != 2 else exc.format(), err=True)
            caught, code = exc, exc.exit_code
        except KeyboardInterrupt as exc:
            click.echo("interrupted", err=True)
            caught, code = exc, 130
        except RPCError as exc:
            click.echo(f"error: Temporal refused the request ({exc.status.name}): {exc.message}",
                       err=True)
            caught, code = exc, 1
        except Exception as exc:
            click.echo(f"error: {type(exc).__name__}: {exc}" +
                       ("" if _verbose else " (run with -v for the traceback)"), err=True)
            caught, code = exc, 1
        if _verbose and code not in (0, 2, 130):  # the exception's own: the except block has ended
            traceback.print_exception(caught)
        sys.exit(code)

    return wrapper  # type: ignore[return-value]


