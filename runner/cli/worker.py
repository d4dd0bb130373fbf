"""``runner worker``: serve batches until told to stop."""

from __future__ import annotations

import asyncio
import signal
from datetime import timedelta
from pathlib import Path

import click

from runner.cli.errors import reports_errors
from runner.cli.options import CATALOG_HELP
from runner.client.connect import DEFAULT_TASK_QUEUE, connect, resolve_target
from runner.config.catalog import load_catalog
from runner.config.jobkinds import job_kinds
from runner.contract.errors import UsageError
from runner.worker.assembly import QUEUE_ROLES, SHUTDOWN, check_queues


def bracketed(host: str) -> str:
    """An IPv6 address in brackets, as a bind address needs it (``::1`` -> ``[::1]``)."""
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


# runner_step_seconds: a step lasts from a fraction of a second (a file written) to an hour (a
# long render)
STEP_BUCKETS = {"runner_step_seconds": [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600]}


@click.command()
@click.option("--catalog", type=click.Path(dir_okay=False, path_type=Path), help=CATALOG_HELP)
@click.option("--task-queue", default=DEFAULT_TASK_QUEUE, show_default=True,
              help="Task queue to poll.")
@click.option("--queues", default=",".join(QUEUE_ROLES), show_default=True,
              help="Which work to take, comma-separated: workflows (orchestration, results, "
                   "reports), steps (render, merge, checks: CPU-heavy), llm (model calls), "
                   "steps:GROUP (the steps a manifest gives `queue: GROUP`, e.g. steps:render).")
@click.option("--grace", type=click.FloatRange(min=0, max=3600), default=SHUTDOWN.total_seconds(),
              show_default=True, metavar="SECONDS",
              help="Told to stop, give running activities this long to finish, then hand them "
                   "back (keep it under your service manager's stop timeout).")
@click.option("--metrics-port", type=click.IntRange(1, 65535), default=None, metavar="PORT",
              help="Serve Prometheus metrics on http://HOST:PORT/metrics: Temporal's SDK metrics "
                   "and runner's own per model and per step (see docs/operations.md, Metrics).")
@click.option("--metrics-host", default="127.0.0.1", show_default=True,
              help="The address --metrics-port listens on (0.0.0.0: every address, for a Prometheus "
                   "on another machine; the endpoint has no authentication).")
@reports_errors
def worker(catalog: Path | None, task_queue: str, queues: str, grace: float, metrics_port: int | None,
           metrics_host: str) -> None:
    """Run a worker for the batch workflow and every job kind until Ctrl-C or SIGTERM.

    Uses the configured Temporal, else the embedded server (started if needed). The worker reads
    the model catalog and the providers' API keys from its own environment. Each catalog model's
    calls are served on their own task queue (TASK_QUEUE.llm.MODEL): the Temporal server holds the
    model's rpm for all workers of that queue together, each worker runs at most max_concurrency
    calls at once and paces its calls and tokens against its share of the model's rpm and tpm
    (split among the workers polling the queue). Job steps run on TASK_QUEUE.steps, or
    TASK_QUEUE.steps.GROUP for a step a manifest gives `queue: GROUP`: with --queues, step
    machines (render, merge: CPU-heavy) and LLM machines can be separate. They share only the
    Temporal server and the batch's output: a folder they all mount, or an object store URL
    (s3://...: credentials from the worker's environment).

    On SIGTERM or Ctrl-C the worker stops taking work, gives running activities --grace seconds to
    finish, then hands the rest back: Temporal retries them on another worker, and a render
    resumes after its last finished scene.
    """
    from runner.worker.assembly import build_worker, run_until

    cat = load_catalog(catalog)
    roles = check_queues(q.strip() for q in queues.split(",") if q.strip())
    target = resolve_target()

    async def go() -> None:
        runtime = None
        if metrics_port is not None:
            from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig

            try:
                runtime = Runtime(telemetry=TelemetryConfig(metrics=PrometheusConfig(
                    bind_address=f"{bracketed(metrics_host)}:{metrics_port}", counters_total_suffix=True,
                    durations_as_seconds=True, histogram_bucket_overrides=STEP_BUCKETS)))
            except Exception as exc:  # the SDK's own error: port taken, address unknown
                raise UsageError(f"--metrics-port {metrics_port}: cannot serve metrics on "
                                 f"{metrics_host}:{metrics_port}: {exc}") from exc
        client = await connect(target, runtime)
        w = build_worker(client, task_queue=task_queue, catalog=cat, queues=roles,
                         grace=timedelta(seconds=grace))
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        click.echo(f"worker polling task queue {task_queue!r} ({', '.join(roles)}) on "
                   f"{target.describe()}; jobs: {', '.join(sorted(job_kinds()))}; Ctrl-C to stop")
        if metrics_port is not None:
            click.echo(f"metrics: http://{metrics_host}:{metrics_port}/metrics")
        if "llm" in roles:
            click.echo(f"models ({cat.source}): " + ", ".join(
                f"{name} ({spec.rpm or 'unlimited'} rpm, {spec.tpm or 'unlimited'} tpm, "
                f"{spec.max_concurrency} at once)" for name, spec in cat.models.items()))
        await run_until(w, stop)
        click.echo("worker stopped (running activities finished or were handed back)")

    asyncio.run(go())
