"""The ``runner`` command line. It only parses options and presents results; the work is elsewhere.

Commands live by group: :mod:`runner.cli.batch` (submit, validate, status, cancel, retry, list),
:mod:`runner.cli.schedule`,
:mod:`runner.cli.worker`, :mod:`runner.cli.server`, :mod:`runner.cli.jobs`. Installed packages add
more through the ``runner.commands`` entry points (the explainer's render and check-math, the
simulator); :mod:`runner.cli.errors` reports every command's errors.
"""

from __future__ import annotations

import sys

import click

from runner import __version__
from runner.cli import batch, jobs, logs, models, schedule, server, worker
from runner.cli.errors import reports_errors, set_verbose


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="runner")
@click.option("-v", "--verbose", is_flag=True,
              help="Log more, and show tracebacks of failures.")
def main(verbose: bool) -> None:
    """runner: a durable batch runner for GenAI pipelines on Temporal.

    A YAML manifest lists topics; `runner submit` starts one Temporal workflow for the batch, which
    runs one child workflow per topic through the job kind's pipeline and writes report.json and
    report.md into the batch's output directory.

    Temporal: if TEMPORAL_ADDRESS or a temporalio client profile is configured, runner uses it;
    otherwise it starts (or reuses) an embedded dev server with its state in $RUNNER_HOME
    (default ./.runner).

    \b
    Exit codes: 0 success, 1 failure (e.g. a topic failed), 2 bad input (nothing was started).
    """
    set_verbose(verbose)
    logs.setup(verbose=verbose)


for command in (batch.submit, batch.validate, batch.plan_command, batch.status, batch.cancel, batch.retry,
                batch.fetch,
                batch.list_command, schedule.schedule_group, worker.worker, server.server_group,
                jobs.jobs_command, models.models_command):
    main.add_command(command)


COMMANDS_GROUP = "runner.commands"


def _add_plugin_commands() -> None:
    """Installed packages add subcommands through the ``runner.commands`` entry points (the
    explainer: render, check-math; runner's dev tools: simulate); their errors are reported like the
    engine's own. One that cannot be loaded, or whose name is taken, is skipped with a warning: it
    must not cost the user every other command."""
    from importlib.metadata import entry_points

    for ep in sorted(entry_points(group=COMMANDS_GROUP), key=lambda e: e.name):
        try:
            command = ep.load()
        except Exception as exc:
            click.echo(f"warning: command {ep.name} ({ep.value}) cannot be loaded: "
                       f"{type(exc).__name__}: {exc}", err=True)
            continue
        if not isinstance(command, click.Command):
            click.echo(f"warning: entry point {ep.name} = {ep.value} ({COMMANDS_GROUP}) is not a "
                       "click command", err=True)
            continue
        if command.name in main.commands:
            click.echo(f"warning: command {command.name} ({ep.value}) is skipped: runner has one of "
                       "that name", err=True)
            continue
        if command.callback is not None:
            command.callback = reports_errors(command.callback)
        main.add_command(command)


_add_plugin_commands()


def entry() -> None:
    """Console-script entry point: run the CLI, then leave without interpreter teardown.

    Temporal's core runs Tokio threads that can still touch the GIL while CPython finalizes, which
    aborts the process (SIGABRT, "PyGILState_Release ... finalizing"; temporalio/sdk-python#300, seen
    here after `runner submit --wait`). All work is done and flushed by then, so the exit skips the
    teardown; the exit code is the command's.
    """
    import logging
    import os

    try:
        main()
        code = 0
    except SystemExit as exc:
        if exc.code is None or isinstance(exc.code, int):
            code = exc.code or 0
        else:
            print(exc.code, file=sys.stderr)
            code = 1
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(code)
