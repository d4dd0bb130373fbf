"""Batches on a schedule: a manifest's ``schedule:`` block as a Temporal Schedule.

``runner schedule apply`` snapshots the manifest: its topic file is written (once, named by its
content) and the batch's input is the schedule's action; editing the manifest changes nothing until
the next apply. Each run the schedule starts is the batch workflow with that input; the workflow
takes the id Temporal gives the run (``<schedule id>-<due time>``) and a folder of its own under the
output location (see :func:`runner.contract.names.run_output_dir`), so runs never overwrite each
other and each is a normal batch (status, cancel, retry, report).

The schedule's id is the manifest's batch id (its name and a hash of its output location).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleBackfill,
    ScheduleDescription,
    ScheduleHandle,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
    ScheduleState,
    ScheduleUpdate,
    ScheduleUpdateInput,
)

from runner.client.control import missing_as_usage_error, table
from runner.client.follow import Echo
from runner.client.identity import batch_id_for, batch_input
from runner.client.pollers import has_pollers
from runner.config.cron import ScheduleEntry
from runner.config.manifest import BatchPlan
from runner.contract.errors import UsageError
from runner.contract.names import BATCH_WORKFLOW, fixed_part
from runner.contract.policy import format_duration

APPLIED = "applied"  # the action memo key holding what was applied, to tell what an apply changes
SHOWN_RUNS = 5


def overlap_policy(name: str) -> ScheduleOverlapPolicy:
    """The manifest's overlap name (``buffer-one``) as Temporal's policy (``BUFFER_ONE``)."""
    return ScheduleOverlapPolicy[name.upper().replace("-", "_")]


def applied_summary(plan: BatchPlan, entry: ScheduleEntry, topics_file: str,
                    task_queue: str) -> dict[str, Any]:
    """What an apply sets, in words a person compares: the next apply names what differs."""
    return {
        "when": entry.when(),
        "timezone": entry.timezone, "overlap": entry.overlap,
        "jitter": format_duration(entry.jitter) if entry.jitter else "none",
        "catchup_window": format_duration(entry.catchup_window) if entry.catchup_window else "default",
        "paused": entry.paused, "topics": f"{len(plan.topics)} ({Path(topics_file).name})",
        "concurrency": plan.concurrency, "job": plan.job, "manifest": plan.manifest,
        "output_dir": plan.output_dir, "task_queue": task_queue,
    }


def _schedule(plan: BatchPlan, entry: ScheduleEntry, task_queue: str) -> tuple[Schedule, dict[str, Any]]:
    inp = batch_input(plan, batch_id_for(plan), task_queue, topics_dir=fixed_part(plan.output_dir))
    inp = inp.model_copy(update={"schedule_id": inp.batch_id})
    summary = applied_summary(plan, entry, inp.topics_file, task_queue)
    spec = ScheduleSpec(
        cron_expressions=[entry.cron] if entry.cron else [],
        intervals=[ScheduleIntervalSpec(every=timedelta(seconds=entry.every))] if entry.every else [],
        time_zone_name=entry.timezone,
        jitter=timedelta(seconds=entry.jitter) if entry.jitter else None,
    )
    action = ScheduleActionStartWorkflow(
        BATCH_WORKFLOW, inp, id=inp.batch_id, task_queue=task_queue,
        memo={**inp.memo(f"schedule {inp.batch_id}"), APPLIED: json.dumps(summary, sort_keys=True)},
    )
    policy = SchedulePolicy(
        overlap=overlap_policy(entry.overlap),
        catchup_window=timedelta(seconds=entry.catchup_window) if entry.catchup_window else None,
    )
    state = ScheduleState(paused=entry.paused, note="paused in the manifest" if entry.paused else None)
    return Schedule(action=action, spec=spec, policy=policy, state=state), summary


@dataclass
class Applied:
    schedule_id: str
    created: bool
    changes: list[str]  # "key: old -> new"; empty: unchanged (nothing was sent)


async def apply(client: Client, plan: BatchPlan, *, task_queue: str) -> Applied:
    """Create the manifest's schedule, or update it to the manifest; says what changed.

    Raises:
        UsageError: the manifest has no ``schedule:`` block, or its topic file cannot be written.
    """
    entry = plan.schedule
    if entry is None:
        raise UsageError(f"{plan.manifest}: no `schedule:` block (see docs/manifest.md); "
                         "`runner submit` runs a batch once")
    schedule, summary = _schedule(plan, entry, task_queue)
    schedule_id = batch_id_for(plan)
    try:
        await client.create_schedule(schedule_id, schedule)
        return Applied(schedule_id, True, [])
    except ScheduleAlreadyRunningError:
        pass
    changes: list[str] = []

    def update(current: ScheduleUpdateInput) -> ScheduleUpdate | None:
        before = _applied(current.description)
        changes[:] = [f"{key}: {before.get(key, '?')} -> {value}" for key, value in summary.items()
                      if before.get(key) != value]
        if not changes:
            return None
        state = current.description.schedule.state
        if before.get("paused") == entry.paused:  # the manifest did not change it: keep what is
            schedule.state = ScheduleState(paused=state.paused, note=state.note)
        return ScheduleUpdate(schedule=schedule)

    await client.get_schedule_handle(schedule_id).update(update)
    return Applied(schedule_id, False, changes)


def _applied(desc: ScheduleDescription) -> dict[str, Any]:
    action = desc.schedule.action
    memo = getattr(action, "memo", None) or {}
    raw = memo.get(APPLIED)
    if raw is None:
        return {}
    value = raw if isinstance(raw, str) else _decode(raw)
    try:
        out = json.loads(value)
    except (TypeError, ValueError):
        return {}
    return out if isinstance(out, dict) else {}


def _decode(payload: Any) -> str:
    from temporalio.converter import default

    try:
        return str(default().payload_converter.from_payload(payload, str))
    except Exception:  # not ours: treated as unknown, so the next apply rewrites it
        return ""


async def warn_without_worker(client: Client, task_queue: str, echo: Echo) -> None:
    if not await has_pollers(client, task_queue):
        echo(f"warning: no worker polls task queue {task_queue!r} now: the schedule's runs wait "
             "until one does (run `runner worker` as a service; see docs/operations.md)")


async def handle_of(client: Client, schedule_id: str) -> tuple[ScheduleHandle, ScheduleDescription]:
    """The schedule and its description.

    Raises:
        UsageError: there is no such schedule.
    """
    handle = client.get_schedule_handle(schedule_id)
    with missing_as_usage_error(f"no schedule {schedule_id!r} on this Temporal server (see `runner "
                                "schedule list`)"):
        return handle, await handle.describe()


def _when(t: datetime | None) -> str:
    return f"{t.astimezone(UTC):%Y-%m-%d %H:%M:%S}" if t else ""


async def list_schedules(client: Client, echo: Echo) -> int:
    """Print every schedule: id, state, when, next run; returns how many."""
    rows: list[tuple[str, ...]] = [("SCHEDULE", "STATE", "WHEN", "NEXT RUN (UTC)", "RECENT RUNS")]
    async for s in await client.list_schedules():
        paused = s.schedule.state.paused if s.schedule else None
        state = "?" if paused is None else ("paused" if paused else "active")
        when = _spec_words(s.schedule.spec) if s.schedule else "?"
        nxt = _when(s.info.next_action_times[0]) if s.info and s.info.next_action_times else ""
        recent = str(len(s.info.recent_actions)) if s.info else "?"
        rows.append((s.id, state, when, nxt, recent))
    if len(rows) == 1:
        echo("no schedules yet (runner schedule apply MANIFEST creates one)")
        return 0
    table(rows, echo, indent="")
    return len(rows) - 1


def _spec_words(spec: ScheduleSpec) -> str:
    parts = [f"every {format_duration(i.every.total_seconds())}" for i in spec.intervals]
    parts += [f"cron {c}" for c in spec.cron_expressions]
    if spec.calendars and not spec.cron_expressions:
        parts.append("calendar")  # the server keeps a cron expression as calendars
    tz = f" ({spec.time_zone_name})" if spec.time_zone_name and spec.time_zone_name != "UTC" else ""
    return ", ".join(parts) + tz


async def describe(client: Client, schedule_id: str, echo: Echo) -> None:
    """Print a schedule: what it runs, when, its state, its next and recent runs."""
    _, desc = await handle_of(client, schedule_id)
    applied = _applied(desc)
    state = desc.schedule.state
    echo(f"schedule {schedule_id}: {'paused' if state.paused else 'active'}"
         + (f" ({state.note})" if state.paused and state.note else ""))
    echo(f"  when: {applied.get('when') or _spec_words(desc.schedule.spec)}, time zone "
         f"{applied.get('timezone', desc.schedule.spec.time_zone_name or 'UTC')}, overlap "
         f"{applied.get('overlap', '?')}, jitter {applied.get('jitter', '?')}, catch-up window "
         f"{applied.get('catchup_window', '?')}")
    echo(f"  runs: manifest {applied.get('manifest', '?')} (as applied), job {applied.get('job', '?')}, "
         f"{applied.get('topics', '?')} topics, output under {applied.get('output_dir', '?')}")
    info = desc.info
    echo(f"  {info.num_actions} run(s) started; {info.num_actions_skipped_overlap} skipped (overlap), "
         f"{info.num_actions_missed_catchup_window} missed (catch-up window); "
         f"{len(info.running_actions)} running now")
    nxt = ", ".join(_when(t) for t in info.next_action_times[:SHOWN_RUNS])
    echo(f"  next (UTC): {nxt or 'none'}")
    for r in info.recent_actions[-SHOWN_RUNS:]:
        workflow_id = getattr(r.action, "workflow_id", "?")
        echo(f"  ran {_when(r.scheduled_at)}: batch {workflow_id} (`runner status {workflow_id}`)")


async def backfill(client: Client, schedule_id: str, start: datetime, end: datetime,
                   overlap: str | None) -> None:
    """Run the schedule's runs that were due between ``start`` and ``end`` now.

    Raises:
        UsageError: an empty or reversed range.
    """
    if end <= start:
        raise UsageError(f"--to ({end:%Y-%m-%d %H:%M}) must be after --from ({start:%Y-%m-%d %H:%M})")
    handle, _ = await handle_of(client, schedule_id)
    await handle.backfill(ScheduleBackfill(
        start_at=start, end_at=end, overlap=overlap_policy(overlap) if overlap else None))
