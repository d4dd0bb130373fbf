"""``runner schedule``: batches that run by themselves, on Temporal Schedules."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from runner.cli.errors import reports_errors
from runner.cli.options import CATALOG_HELP, by_ref, echo
from runner.client.connect import DEFAULT_TASK_QUEUE, connect, resolve_target
from runner.config.catalog import load_catalog
from runner.config.cron import OVERLAPS
from runner.config.manifest import load_manifest

SCHEDULE_HELP = ("SCHEDULE is a schedule id (see `runner schedule list`) or the manifest file it was "
                 "applied from.")


@click.group("schedule")
def schedule_group() -> None:
    """Run a manifest's batch on a schedule (its `schedule:` block: cron or every, timezone, overlap,
    jitter, catchup_window, paused).

    `apply` creates or updates the schedule from the manifest as it is now (a snapshot: editing the
    file changes nothing until the next apply). Each run is a normal batch (`runner status`,
    `cancel`, `retry`, its report) named `<schedule>-<due time>`, writing to a folder of its own
    under output_dir (`<output_dir>/2026-11-29T030000Z/`, or output_dir's {date}/{time}
    placeholders filled in). Runs need the Temporal server and a `runner worker` to be up when
    they are due: run both as services (docs/operations.md).
    """


@schedule_group.command("apply")
@click.argument("manifest", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--catalog", type=click.Path(dir_okay=False, path_type=Path), help=CATALOG_HELP)
@click.option("--task-queue", default=DEFAULT_TASK_QUEUE, show_default=True,
              help="Task queue the scheduled batches run on.")
@reports_errors
def apply_command(manifest: Path, catalog: Path | None, task_queue: str) -> None:
    """Create MANIFEST's schedule, or update it to the manifest; says what changed (an unchanged
    manifest changes nothing). A pause or unpause made with `runner schedule pause/unpause` stays
    unless the manifest's `paused:` changed. Exit 2 for a manifest with problems or no `schedule:`."""
    from runner.client.schedules import apply, handle_of, warn_without_worker

    plan = load_manifest(manifest, load_catalog(catalog))
    target = resolve_target()

    async def go() -> None:
        client = await connect(target)
        done = await apply(client, plan, task_queue=task_queue)
        _, desc = await handle_of(client, done.schedule_id)
        nxt = desc.info.next_action_times[0] if desc.info.next_action_times else None
        due = f"next run {nxt:%Y-%m-%d %H:%M:%S} UTC" if nxt else "no run due"
        paused = " (paused)" if desc.schedule.state.paused else ""
        if done.created:
            echo(f"created schedule {done.schedule_id}{paused}: {len(plan.topics)} topics, job "
                 f"{plan.job}, output under {plan.output_dir}; {due}")
        elif done.changes:
            echo(f"updated schedule {done.schedule_id}{paused}: " + "; ".join(done.changes) + f"; {due}")
        else:
            echo(f"schedule {done.schedule_id} unchanged{paused}; {due}")
        await warn_without_worker(client, task_queue, echo)
        echo(f"temporal: {target.describe()}")

    asyncio.run(go())


@schedule_group.command("list")
@reports_errors
def list_command() -> None:
    """List the schedules: id, active or paused, when, the next run."""
    from runner.client.schedules import list_schedules

    target = resolve_target()

    async def go() -> None:
        await list_schedules(await connect(target), echo)

    asyncio.run(go())


@schedule_group.command("describe")
@by_ref("schedule", SCHEDULE_HELP)
async def describe_command(client: Any, schedule_id: str, **_: Any) -> None:
    """Show a schedule: when it runs, what (the manifest as applied), its state, next and recent
    runs (with their batch ids)."""
    from runner.client.schedules import describe

    await describe(client, schedule_id, echo)


async def _set_paused(client: Any, schedule_id: str, paused: bool, note: str) -> None:
    from runner.client.schedules import handle_of

    handle = (await handle_of(client, schedule_id))[0]
    await (handle.pause(note=note) if paused else handle.unpause(note=note))
    echo(f"{'paused' if paused else 'unpaused'} schedule {schedule_id}")


@schedule_group.command("pause")
@click.option("--note", default="paused with runner schedule pause", show_default=True,
              help="Why (shown by describe).")
@by_ref("schedule", SCHEDULE_HELP)
async def pause_command(client: Any, schedule_id: str, note: str, **_: Any) -> None:
    """Pause a schedule: no run starts until it is unpaused (a running batch goes on)."""
    await _set_paused(client, schedule_id, True, note)


@schedule_group.command("unpause")
@click.option("--note", default="unpaused with runner schedule unpause", show_default=True,
              help="Why (shown by describe).")
@by_ref("schedule", SCHEDULE_HELP)
async def unpause_command(client: Any, schedule_id: str, note: str, **_: Any) -> None:
    """Unpause a schedule: runs start again when due (missed ones within the catch-up window)."""
    await _set_paused(client, schedule_id, False, note)


OVERLAP_OPTION = click.option("--overlap", type=click.Choice(OVERLAPS), default=None,
                              help="Overlap policy for these runs (default: the schedule's).")


@schedule_group.command("trigger")
@OVERLAP_OPTION
@by_ref("schedule", SCHEDULE_HELP)
async def trigger_command(client: Any, schedule_id: str, overlap: str | None, **_: Any) -> None:
    """Start a run of the schedule now (as if it were due; the overlap policy applies)."""
    from runner.client.schedules import handle_of, overlap_policy

    handle = (await handle_of(client, schedule_id))[0]
    await handle.trigger(overlap=overlap_policy(overlap) if overlap else None)
    echo(f"triggered schedule {schedule_id} (`runner schedule describe {schedule_id}` shows the run)")


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


@schedule_group.command("backfill")
@click.option("--from", "start", required=True, type=click.DateTime(),
              help="Start of the range (UTC), e.g. 2026-11-01 or 2026-11-01T03:00:00.")
@click.option("--to", "end", required=True, type=click.DateTime(), help="End of the range (UTC).")
@OVERLAP_OPTION
@by_ref("schedule", SCHEDULE_HELP)
async def backfill_command(client: Any, schedule_id: str, start: datetime, end: datetime,
                           overlap: str | None, **_: Any) -> None:
    """Run now the runs that were due between --from and --to (each writes to the folder of the
    time it was due)."""
    from runner.client.schedules import backfill

    await backfill(client, schedule_id, _utc(start), _utc(end), overlap)
    echo(f"backfilling schedule {schedule_id} from {_utc(start):%Y-%m-%d %H:%M:%S} to "
         f"{_utc(end):%Y-%m-%d %H:%M:%S} UTC")


@schedule_group.command("delete")
@by_ref("schedule", SCHEDULE_HELP)
async def delete_command(client: Any, schedule_id: str, **_: Any) -> None:
    """Delete a schedule (its batches, running or ended, and their outputs stay)."""
    from runner.client.schedules import handle_of

    handle = (await handle_of(client, schedule_id))[0]
    await handle.delete()
    echo(f"deleted schedule {schedule_id}")
