"""``runner server``: the embedded Temporal dev server."""

from __future__ import annotations

import sys

import click

from runner.cli.errors import reports_errors
from runner.client import server
from runner.config.home import runner_home


@click.group("server")
def server_group() -> None:
    """Manage the embedded Temporal dev server (state in $RUNNER_HOME, default ./.runner).

    It persists to SQLite (WAL, synchronous=NORMAL), so batches survive a restart. `runner submit`
    and `runner worker` start it themselves when no Temporal address is configured.
    """


@server_group.command("start")
@click.option("--port", type=int, default=None,
              help="gRPC port (default: the last port this state directory used if free, so "
                   "running workers reconnect; else 7233; else any free port).")
@reports_errors
def server_start(port: int | None) -> None:
    """Start the embedded server, or report the one already running."""
    info, started = server.start(port=port)
    verb = "started" if started else "already running"
    click.echo(f"temporal dev server {verb}: {info.address} (pid {info.pid}), UI {info.ui_url}, "
               f"data {info.db}")


@server_group.command("stop")
@reports_errors
def server_stop() -> None:
    """Stop the embedded server (its data stays in the state directory)."""
    info = server.stop()
    click.echo(f"stopped temporal dev server (pid {info.pid})" if info else "no server was running")


@server_group.command("status")
@reports_errors
def server_status() -> None:
    """Say whether the embedded server runs; exit 0 if it does, 1 if not."""
    info = server.status()
    if info is None:
        click.echo(f"not running (state directory {runner_home()})")
        sys.exit(1)
    click.echo(f"running: {info.address} (pid {info.pid}), UI {info.ui_url}, data {info.db}")
