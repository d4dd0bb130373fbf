"""Batch commands: submit, validate, status, cancel, retry, list."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

import click
from temporalio.client import Client

from runner.cli.errors import reports_errors
from runner.cli.options import CATALOG_HELP, by_ref, echo
from runner.client.connect import DEFAULT_TASK_QUEUE, connect, resolve_target
from runner.client.follow import LocalWorker
from runner.client.plan import WORK_TO_DO, plan_batch, render
from runner.config.budgets import budget_warnings
from runner.config.catalog import Catalog, load_catalog, missing_keys
from runner.config.manifest import load_manifest, models_used
from runner.contract.budget import Budget
from runner.contract.errors import UsageError

JUNIT_OPTION = click.option(
    "--junit", type=click.Path(dir_okay=False, path_type=Path), default=None,
    help="With --wait: write JUnit XML to this file (a testcase per topic; failed topics are "
         "failures with their step and error). Under GitHub Actions ($GITHUB_STEP_SUMMARY set), "
         "--wait also appends a summary to the job's page.")


def _needs_wait(junit: Path | None, wait: bool) -> None:
    if junit is not None and not wait:
        raise UsageError("--junit needs --wait (the file is written when the batch ends)")


@click.command()
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
@JUNIT_OPTION
@click.option("--no-cache", is_flag=True,
              help="Use no step cache for this batch: every step runs, nothing is kept.")
@click.option("--refresh", "refresh", multiple=True, metavar="TOPIC_ID",
              help="Take nothing from the step cache for this topic (repeatable): its steps run "
                   "again, and their outputs replace the cached ones.")
@reports_errors
def submit(manifest: Path, wait: bool, worker: bool | None, catalog: Path | None,
           task_queue: str, new: bool, junit: Path | None, no_cache: bool,
           refresh: tuple[str, ...]) -> None:
    """Validate MANIFEST and start its batch (output_dir is relative to the current directory).

    The batch id is the manifest's name and a hash of its output directory: submitting a manifest
    whose batch is still running attaches to that batch instead of starting a second one (--new
    replaces it). Without --wait, prints the batch id and returns. With --wait, shows progress,
    prints the report's path as its last line, and exits 0 only if every topic succeeded (1 if any
    failed or was cancelled). A manifest with problems is reported in full and nothing is started
    (exit 2).

    Progress: a live bar on a terminal (done, failed, running, topics/s, ETA, the longest-running
    topics' steps), else a line every 10 s.
    """
    from runner.client.submit import submit as run_submit

    _needs_wait(junit, wait)
    cat = load_catalog(catalog)
    plan = load_manifest(manifest, cat)
    if no_cache:
        plan = plan.model_copy(update={"cache": None})
    for warning in budget_warnings(plan.budget, models_used(plan), cat):
        click.echo(warning, err=True)
    target = resolve_target()
    if target.embedded or (wait and worker):  # the workers run here, with this environment
        if missing := missing_keys(cat, models_used(plan)):
            raise UsageError("; ".join(missing) + " in this environment (the workers of this "
                             "machine read it from here); set it, or leave the model out of "
                             "`models:`. Nothing was started.")

    async def go() -> None:
        client = await connect(target)
        await run_submit(client, target, plan, task_queue=task_queue, wait=wait, worker=worker,
                         echo=echo, new=new, local_worker=local_worker(client, task_queue, cat),
                         live=sys.stdout.isatty(), junit=junit, refresh=refresh)

    asyncio.run(go())


def local_worker(client: Client, task_queue: str, catalog: Catalog) -> LocalWorker:
    """A worker for every job kind and model that `--wait` can run in this process until the batch
    ends (built only if it is needed: that imports every job's activities)."""

    async def serve(stop: asyncio.Event) -> None:
        from runner.client.pollers import transient_identity
        from runner.worker.assembly import build_worker, run_until

        await run_until(build_worker(client, task_queue=task_queue, catalog=catalog,
                                     identity=transient_identity()), stop)

    return serve


BATCH_HELP = "BATCH is a batch id (see `runner list`) or the manifest file of the batch."


@click.command()
@click.option("--topics", "topics", is_flag=True,
              help="Also list topics: the running ones with their step, attempt, model and time in "
                   "the step (an ended batch: every topic, from its report).")
@click.option("--failed", "failed", is_flag=True, help="Also list the failed and cancelled topics.")
@by_ref("batch", BATCH_HELP)
async def status(client: Any, batch_id: str, topics: bool, failed: bool, **_: Any) -> None:
    """Show a batch: its state and counts (succeeded, failed, cancelled, running, pending), and on
    request its topics. A running batch answers through its workflow, mid-run and after restarts
    (a worker must be running); an ended one answers from its report, with no worker. Exit 0 if
    the batch is running or completed, 1 if it failed, was cancelled or ended otherwise."""
    from runner.client.control import status as show

    state = await show(client, batch_id, echo, topics=topics, failed=failed)
    if state not in ("running", "completed"):
        sys.exit(1)


@click.command()
@click.option("--to", "to", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder to download into (default: ./BATCH_ID).")
@by_ref("batch", BATCH_HELP)
async def fetch(client: Any, batch_id: str, to: Path | None, **_: Any) -> None:
    """Download a batch's outputs (videos, answers, result files, reports) from where its workers
    wrote them: an object store URL (with this machine's credentials, e.g. the AWS environment
    variables or a profile) or a folder. Files already there with the same size are skipped, so a
    second fetch gets only what is new."""
    from runner.client.fetch import fetch as do_fetch

    await do_fetch(client, batch_id, to, echo)


@click.command()
@click.option("--wait", "wait_s", type=float, default=120.0, show_default=True,
              help="Seconds to wait for the batch to stop and write its report.")
@by_ref("batch", BATCH_HELP)
async def cancel(client: Any, batch_id: str, wait_s: float, **_: Any) -> None:
    """Cancel a running batch: running topics stop their steps (a heartbeating step's subprocess is
    killed within seconds), topics not started are not started, the providers are asked to stop its
    provider batches in flight (`delivery: batch`), and the report marks the topics cancelled.
    `runner retry` finishes them later, reusing the steps they had finished."""
    from runner.client.control import cancel as do_cancel

    await do_cancel(client, batch_id, echo, wait_s=wait_s)


@click.command()
@click.option("--wait/--no-wait", default=False, show_default=True,
              help="Follow the retry, showing progress, until its report is written.")
@click.option("--worker/--no-worker", "worker", default=None,
              help="With --wait: run a worker in this process (default as for `submit`).")
@click.option("--task-queue", default=None,
              help="Task queue (default: the one the batch ran on).")
@click.option("--budget", "budget_usd", type=click.FloatRange(min=0, min_open=True), default=None,
              metavar="USD", help="This run's cap in US dollars (default: the batch's `budget:`, "
                                  "which each run may spend anew); its other caps stay.")
@JUNIT_OPTION
@by_ref("batch", BATCH_HELP)
async def retry(client: Any, batch_id: str, target: Any, catalog: Any, wait: bool,
                worker: bool | None, task_queue: str | None, budget_usd: float | None,
                junit: Path | None) -> None:
    """Run again only the topics of a finished batch that did not succeed (failed, cancelled or
    budget_exhausted), as a new run of the same batch. Each reuses the steps it had finished (same
    input: same checkpoint); the topics that succeeded are carried into the new report as they
    were. Topics that ran out of budget need a higher cap: --budget USD."""
    from runner.client.control import plan_retry
    from runner.client.follow import follow
    from runner.client.submit import start_batch

    _needs_wait(junit, wait)
    plan = await plan_retry(client, batch_id)
    inp = plan.inp if task_queue is None else plan.inp.model_copy(update={"task_queue": task_queue})
    if budget_usd is not None:
        inp = inp.model_copy(update={"budget": (inp.budget or Budget()).model_copy(
            update={"usd": budget_usd})})
    handle = await start_batch(client, inp, run="retry")
    more = f", +{plan.rerun - len(plan.first)} more" if plan.rerun > len(plan.first) else ""
    echo(f"retrying batch {batch_id}: {plan.rerun} topic(s) ({', '.join(plan.first)}{more}); "
         f"{inp.carried} carried over; {plan.resumed} resume from their finished steps"
         + (f"; budget {inp.budget.describe()}" if inp.budget else ""))
    if not wait:
        echo(batch_id)
        return
    await follow(client, target, handle, inp.output_dir, task_queue=inp.task_queue, worker=worker,
                 echo=echo, local_worker=local_worker(client, inp.task_queue, catalog),
                 live=sys.stdout.isatty(), junit=junit)


@click.command("list")
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


@click.command()
@click.argument("manifest", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--catalog", type=click.Path(dir_okay=False, path_type=Path), help=CATALOG_HELP)
@reports_errors
def validate(manifest: Path, catalog: Path | None) -> None:
    """Check MANIFEST without starting anything.

    Prints every problem at once as FILE:LINE: key.path: message and exits 2, or a one-line summary
    and exits 0.
    """
    cat = load_catalog(catalog)
    plan = load_manifest(manifest, cat)
    for warning in budget_warnings(plan.budget, models_used(plan), cat):
        click.echo(warning, err=True)
    s = plan.schedule
    when = "" if s is None else f", schedule: {s.when()}" + (f" ({s.timezone})" if s.cron else "")
    click.echo(f"{manifest}: ok: batch {plan.name!r}, job {plan.job}, {len(plan.topics)} topics, "
               f"concurrency {plan.concurrency}, output {plan.output_dir}, step cache "
               f"{plan.cache or 'off'}{when}"
               + (f", budget {plan.budget.describe()}" if plan.budget else ""))


@click.command(name="plan")
@click.argument("manifest", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--catalog", type=click.Path(dir_okay=False, path_type=Path), help=CATALOG_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print the plan as JSON (every topic).")
@reports_errors
def plan_command(manifest: Path, catalog: Path | None, as_json: bool) -> None:
    """Say what `runner submit MANIFEST` would run and what it would take from the step cache,
    without starting anything.

    Per topic: the steps that would run (and why: new or changed topic, changed code, tools or
    model, output gone from the cache) and those reused; then the totals, with the LLM calls,
    tokens and cost (catalog prices) to expect, estimated from what the same steps took before
    (with `delivery: batch`, also at batch prices), and, with a `budget:`, whether that fits it.
    The code, tools and catalog of this machine are assumed to be the workers'.

    Exit codes: 0 everything is in the cache (a submit runs nothing), 3 there is work to do,
    2 the manifest is invalid, 1 another error.
    """
    cat = load_catalog(catalog)
    found = plan_batch(load_manifest(manifest, cat), cat)
    if as_json:
        click.echo(json.dumps(found.as_json(), indent=2))
    else:
        for line in render(found):
            click.echo(line)
    if found.work:
        sys.exit(WORK_TO_DO)
