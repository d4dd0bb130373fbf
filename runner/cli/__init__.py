"""The ``runner`` command line. It only parses options and presents results; the work is elsewhere."""

from __future__ import annotations

import asyncio
import functools
import signal
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
from temporalio.service import RPCError

from runner import __version__
from runner.cli import logs
from runner.client import server
from runner.client.connect import DEFAULT_TASK_QUEUE, connect, resolve_target
from runner.client.follow import LocalWorker
from runner.config.catalog import CATALOG_ENV, Catalog, load_catalog
from runner.config.jobkinds import job_kinds
from runner.config.manifest import load_manifest
from runner.contract.errors import RunnerError, UsageError
from runner.contract.policy import describe_policy
from runner.worker.assembly import QUEUE_ROLES, check_queues

F = TypeVar("F", bound=Callable[..., Any])

CATALOG_HELP = (f"Model catalog YAML (default: ${CATALOG_ENV}, else ./configs/models.yaml, else the "
                "built-in catalog with only `offline`).")


_verbose = False


def reports_errors(fn: F) -> F:
    """Turn every error into one message on stderr and an exit code (a traceback only with -v).

    runner's own errors carry their exit code; Temporal's RPC errors and anything unexpected exit 1.
    """

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except RunnerError as exc:
            if not exc.shown:
                click.echo(f"error: {exc.format()}" if exc.exit_code != 2 else exc.format(), err=True)
            code = exc.exit_code
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            code = 130
        except RPCError as exc:
            click.echo(f"error: Temporal refused the request ({exc.status.name}): {exc.message}",
                       err=True)
            code = 1
        except Exception as exc:
            click.echo(f"error: {type(exc).__name__}: {exc}" +
                       ("" if _verbose else " (run with -v for the traceback)"), err=True)
            code = 1
        else:
            return None
        if _verbose and code not in (0, 2, 130):
            traceback.print_exc()
        sys.exit(code)

    return wrapper  # type: ignore[return-value]


def echo(line: str) -> None:
    click.echo(line)


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
    global _verbose
    _verbose = verbose
    logs.setup(verbose=verbose)


@main.command()
@click.argument("manifest", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--wait/--no-wait", default=False, show_default=True,
              help="Follow the batch, showing progress, until its report is written.")
@click.option("--worker/--no-worker", "worker", default=None,
              help="With --wait: run a worker in this process for the duration. Default: only "
                   "when the embedded server is used and no `runner worker` polls the task queue.")
@click.option("--catalog", type=click.Path(dir_okay=False, path_type=Path), help=CATALOG_HELP)
@click.option("--task-queue", default=DEFAULT_TASK_QUEUE, show_default=True,
              help="Task queue of the workflows and activities.")
@click.option("--new", is_flag=True,
              help="If this manifest's batch is running, terminate it and start afresh (default: "
                   "attach to it).")
@reports_errors
def submit(manifest: Path, wait: bool, worker: bool | None, catalog: Path | None,
           task_queue: str, new: bool) -> None:
    """Validate MANIFEST and start its batch (output_dir is relative to the current directory).

    The batch id is the manifest's name and a hash of its output directory: submitting a manifest
    whose batch is still running attaches to that batch instead of starting a second one (--new
    replaces it). Without --wait, prints the batch id and returns. With --wait, shows progress,
    prints the report's path as its last line, and exits 0 only if every topic succeeded (1 if any
    failed or was cancelled). A manifest with problems is reported in full and nothing is started
    (exit 2).
    """
    from runner.client.submit import submit as run_submit

    cat = load_catalog(catalog)
    plan = load_manifest(manifest, cat)
    target = resolve_target()

    async def go() -> None:
        client = await connect(target)
        await run_submit(client, target, plan, task_queue=task_queue, wait=wait, worker=worker,
                         echo=echo, new=new, local_worker=local_worker(client, task_queue, cat))

    asyncio.run(go())


def local_worker(client: Any, task_queue: str, catalog: Catalog) -> LocalWorker:
    """A worker for every job kind and model that `--wait` can run in this process until the batch
    ends (built only if it is needed: that imports every job's activities)."""

    async def serve(stop: asyncio.Event) -> None:
        from runner.client.pollers import transient_identity
        from runner.worker.assembly import build_worker, run_until

        await run_until(build_worker(client, task_queue=task_queue, catalog=catalog,
                                     identity=transient_identity()), stop)

    return serve


BATCH_HELP = "BATCH is a batch id (see `runner list`) or the manifest file of the batch."


def _batch_command(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Connect, resolve BATCH (an id or a manifest), then run ``fn(client, batch_id, **options)``."""

    @functools.wraps(fn)
    def wrapper(batch: str, catalog: Path | None, **options: Any) -> None:
        from runner.client.identity import resolve_batch_id

        cat = load_catalog(catalog)
        batch_id = resolve_batch_id(batch, cat)
        target = resolve_target()

        async def go() -> None:
            client = await connect(target)
            await fn(client, batch_id, target=target, catalog=cat, **options)

        asyncio.run(go())

    wrapper.__doc__ = f"{fn.__doc__ or ''}\n\n{BATCH_HELP}"
    wrapper = click.option("--catalog", type=click.Path(dir_okay=False, path_type=Path),
                           help=CATALOG_HELP + " Used to read BATCH when it is a manifest.")(wrapper)
    wrapper = click.argument("batch")(wrapper)
    return reports_errors(wrapper)


@main.command()
@_batch_command
async def status(client: Any, batch_id: str, **_: Any) -> None:
    """Show a batch: its state, and per topic its state, current step, attempt, model and time in
    the step. Works mid-run and after restarts (it asks the workflows; a worker must be running to
    answer). Exit 0 if the batch is running or completed, 1 if it failed, was cancelled or ended
    otherwise."""
    from runner.client.control import status as show

    state = await show(client, batch_id, echo)
    if state not in ("running", "completed"):
        sys.exit(1)



@main.command()
@click.option("--wait", "wait_s", type=float, default=120.0, show_default=True,
              help="Seconds to wait for the batch to stop and write its report.")
@_batch_command
async def cancel(client: Any, batch_id: str, wait_s: float, **_: Any) -> None:
    """Cancel a running batch: running topics stop their steps (a heartbeating step's subprocess is
    killed within seconds), topics not started are not started, and the report marks them cancelled.
    `runner retry` finishes them later, reusing the steps they had finished."""
    from runner.client.control import cancel as do_cancel

    await do_cancel(client, batch_id, echo, wait_s=wait_s)



@main.command()
@click.option("--wait/--no-wait", default=False, show_default=True,
              help="Follow the retry, showing progress, until its report is written.")
@click.option("--worker/--no-worker", "worker", default=None,
              help="With --wait: run a worker in this process (default as for `submit`).")
@click.option("--task-queue", default=None,
              help="Task queue (default: the one the batch ran on).")
@_batch_command
async def retry(client: Any, batch_id: str, target: Any, catalog: Any, wait: bool,
                worker: bool | None, task_queue: str | None) -> None:
    """Run again only the topics of a finished batch that failed or were cancelled, as a new run
    of the same batch. Each reuses the steps it had finished (same input: same checkpoint); the
    topics that succeeded are carried into the new report as they were."""
    from runner.client.control import plan_retry
    from runner.client.follow import follow
    from runner.client.submit import start_batch

    plan = await plan_retry(client, batch_id)
    inp = plan.inp if task_queue is None else plan.inp.model_copy(update={"task_queue": task_queue})
    handle = await start_batch(client, inp)
    echo(f"retrying batch {batch_id}: {len(plan.rerun)} topic(s) ({', '.join(plan.rerun)}); "
         f"{len(plan.carried)} carried over; {len(inp.resume_from)} resume from their finished steps")
    if not wait:
        echo(batch_id)
        return
    await follow(client, target, handle, inp.output_dir, task_queue=inp.task_queue, worker=worker,
                 echo=echo, local_worker=local_worker(client, inp.task_queue, catalog))



@main.command("list")
@click.option("--limit", type=click.IntRange(1), default=20, show_default=True,
              help="How many batch runs to show, newest first.")
@reports_errors
def list_command(limit: int) -> None:
    """List recent batch runs with their state, topics and output directory."""
    from runner.client.control import list_batches

    target = resolve_target()

    async def go() -> None:
        await list_batches(await connect(target), echo, limit=limit)

    asyncio.run(go())


@main.command()
@click.argument("manifest", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--catalog", type=click.Path(dir_okay=False, path_type=Path), help=CATALOG_HELP)
@reports_errors
def validate(manifest: Path, catalog: Path | None) -> None:
    """Check MANIFEST without starting anything.

    Prints every problem at once as FILE:LINE: key.path: message and exits 2, or a one-line summary
    and exits 0.
    """
    plan = load_manifest(manifest, load_catalog(catalog))
    click.echo(f"{manifest}: ok: batch {plan.name!r}, job {plan.job}, {len(plan.topics)} topics, "
               f"concurrency {plan.concurrency}, output {plan.output_dir}")


@main.command()
@click.option("--catalog", type=click.Path(dir_okay=False, path_type=Path), help=CATALOG_HELP)
@click.option("--task-queue", default=DEFAULT_TASK_QUEUE, show_default=True,
              help="Task queue to poll.")
@click.option("--queues", default=",".join(QUEUE_ROLES), show_default=True,
              help="Which work to take, comma-separated: workflows (orchestration, results, "
                   "reports), steps (render, merge, checks: CPU-heavy), llm (model calls).")
@reports_errors
def worker(catalog: Path | None, task_queue: str, queues: str) -> None:
    """Run a worker for the batch workflow and every job kind until Ctrl-C or SIGTERM.

    Uses the configured Temporal, else the embedded server (started if needed). The worker reads
    the model catalog and the providers' API keys from its own environment. Each catalog model's
    calls are served on their own task queue (TASK_QUEUE.llm.MODEL): the Temporal server holds the
    model's rpm for all workers of that queue together, each worker runs at most max_concurrency
    calls at once and paces tokens against the model's tpm (shared among the workers). Job steps
    run on TASK_QUEUE.steps: with --queues, render machines and LLM machines can be separate
    (they need the same output directory).

    On SIGTERM or Ctrl-C the worker stops taking work, gives running activities 10 s to finish,
    then hands the rest back: Temporal retries them on another worker, and a render resumes after
    its last finished scene.
    """
    from runner.worker.assembly import build_worker, run_until

    cat = load_catalog(catalog)
    roles = check_queues(q.strip() for q in queues.split(",") if q.strip())
    target = resolve_target()

    async def go() -> None:
        client = await connect(target)
        w = build_worker(client, task_queue=task_queue, catalog=cat, queues=roles)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        click.echo(f"worker polling task queue {task_queue!r} ({', '.join(roles)}) on "
                   f"{target.describe()}; jobs: {', '.join(sorted(job_kinds()))}; Ctrl-C to stop")
        if "llm" in roles:
            click.echo(f"models ({cat.source}): " + ", ".join(
                f"{name} ({spec.rpm or 'unlimited'} rpm, {spec.tpm or 'unlimited'} tpm, "
                f"{spec.max_concurrency} at once)" for name, spec in cat.models.items()))
        await run_until(w, stop)
        click.echo("worker stopped (running activities finished or were handed back)")

    asyncio.run(go())


@main.group("server")
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
        click.echo(f"not running (state directory {server.runner_home()})")
        sys.exit(1)
    click.echo(f"running: {info.address} (pid {info.pid}), UI {info.ui_url}, data {info.db}")


@main.command()
@click.option("--port", type=int, default=8765, show_default=True, help="Port on 127.0.0.1.")
@click.option("--rpm", type=click.IntRange(1), default=None,
              help="Requests per minute allowed (token bucket, 2 s burst).")
@click.option("--tpm", type=click.IntRange(1), default=None,
              help="Tokens per minute allowed (token bucket, 2 s burst).")
@click.option("--fail-rate", type=click.FloatRange(0, 1), default=0.0, show_default=True,
              help="Share of requests answered 529 (Anthropic API) or 503 (OpenAI API).")
@click.option("--latency", type=float, default=0.0, show_default=True,
              help="Seconds added to every answer.")
@click.option("--timeout-rate", type=click.FloatRange(0, 1), default=0.0, show_default=True,
              help="Share of requests that hang for --hang seconds before answering.")
@click.option("--hang", type=float, default=300.0, show_default=True, help="See --timeout-rate.")
@click.option("--rate-limit-first", type=int, default=0, show_default=True,
              help="Answer the first N requests 429 with retry-after --retry-after.")
@click.option("--retry-after", type=float, default=3.0, show_default=True,
              help="See --rate-limit-first.")
@click.option("--model-status", multiple=True, metavar="MODEL=CODE",
              help="Always answer MODEL with HTTP CODE (e.g. claude-x=401). Repeatable.")
@click.option("--log", "log_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Append one JSON line per request (time, API, model, status, tokens).")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the fault dice.")
@reports_errors
def simulate(port: int, rpm: int | None, tpm: int | None, fail_rate: float, latency: float,
             timeout_rate: float, hang: float, rate_limit_first: int, retry_after: float,
             model_status: tuple[str, ...], log_path: Path | None, seed: int) -> None:
    """Serve a simulated LLM provider on 127.0.0.1 until Ctrl-C.

    It speaks the Anthropic Messages API (POST /v1/messages) and the OpenAI chat-completions API
    (POST /v1/chat/completions), answers with the offline model, and enforces --rpm / --tpm with
    realistic 429s. Point a catalog model's base_url at it (http://127.0.0.1:PORT for anthropic,
    http://127.0.0.1:PORT/v1 for litellm `openai/...` models) to rehearse a batch against limits.
    Any non-empty API key is accepted.
    """
    import time

    from runner.dev.simulate import SimConfig, Simulator

    statuses: dict[str, int] = {}
    for item in model_status:
        name, _, code = item.rpartition("=")
        if not name or not code.isdigit():
            raise UsageError(f"--model-status {item!r}: expected MODEL=CODE, e.g. claude-x=401")
        statuses[name] = int(code)
    sim = Simulator(SimConfig(rpm=rpm, tpm=tpm, fail_rate=fail_rate, latency_s=latency,
                              timeout_rate=timeout_rate, hang_s=hang, rate_limit_first=rate_limit_first,
                              retry_after_s=retry_after, model_status=statuses, log=log_path,
                              seed=seed), port=port).start()
    click.echo(f"provider simulator on {sim.base_url} (Anthropic: {sim.base_url}/v1/messages, "
               f"OpenAI: {sim.base_url}/v1/chat/completions); Ctrl-C to stop")
    try:
        while True:
            time.sleep(3600)
    finally:
        sim.stop()


@main.command("jobs")
def jobs_command() -> None:
    """List the job kinds, their steps and their manifest options."""
    for kind in job_kinds().values():
        click.echo(f"{kind.name}: {kind.summary}")
        click.echo(f"  steps: {' -> '.join(kind.step_names)} (LLM steps: {', '.join(kind.llm_steps)})")
        for name, field in kind.options.model_fields.items():
            default = "required" if field.is_required() else f"default {field.default!r}"
            click.echo(f"  option {name}: {field.description or ''} ({default})")
        for step in kind.step_names:
            click.echo(f"  step {step}: {describe_policy(kind.policy(step))}")


COMMANDS_GROUP = "runner.commands"


def _add_plugin_commands() -> None:
    """Installed packages add subcommands through the ``runner.commands`` entry points (the
    explainer: render, check-math); their errors are reported like the engine's own. A name the
    engine already has is not replaced."""
    from importlib.metadata import entry_points

    for ep in sorted(entry_points(group=COMMANDS_GROUP), key=lambda e: e.name):
        command = ep.load()
        if not isinstance(command, click.Command):
            raise TypeError(f"entry point {ep.name} = {ep.value} ({COMMANDS_GROUP}) is not a click command")
        if command.name in main.commands:
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
