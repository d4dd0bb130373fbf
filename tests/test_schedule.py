"""Batches on a schedule (`runner schedule`), on the real dev server: runs start by themselves, each a
normal batch in a folder of its own; pause, an unchanged apply, an edited one and delete do what they
say; a bad cron expression is refused with its line."""

from __future__ import annotations

import asyncio
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from temporalio.client import Client

from runner.cli import main
from runner.client.schedules import overlap_policy
from runner.config.catalog import BUILTIN
from runner.config.cron import OVERLAPS, check_cron
from runner.config.jobkinds import job_kinds
from runner.contract.names import fixed_part, run_output_dir
from runner.worker.assembly import build_worker

STAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d{6}Z$")


def manifest(path: Path, topics: list[str], schedule: str, *, output: str = "out") -> Path:
    path.write_text(
        "name: every-few\n"
        "job: prompt\n"
        'prompt: "Define {topic}"\n'
        f"output_dir: {output}\n"
        f"schedule: {schedule}\n"
        f"topics: {json.dumps(topics)}\n")
    return path


async def cli(env: dict[str, str], *args: str) -> Result:
    return await asyncio.to_thread(CliRunner().invoke, main, list(args), env=env)


def run_folders(out: Path) -> list[Path]:
    """The scheduled runs' folders whose report is written."""
    return sorted(p for p in out.iterdir() if STAMP.match(p.name) and (p / "report.json").is_file()) \
        if out.is_dir() else []


async def wait_until(what: str, check, timeout: float = 90.0):  # type: ignore[no-untyped-def]
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        if found := check():
            return found
        await asyncio.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


async def test_a_schedule_runs_batches_in_folders_of_their_own_until_paused(
        client: Client, cli_env: dict[str, str], task_queue: str, tmp_path: Path) -> None:
    path = manifest(tmp_path / "m.yaml", ["entropy", "enthalpy"], "{every: 2s}",
                    output=str(tmp_path / "out"))
    out = tmp_path / "out"
    res = await cli(cli_env, "schedule", "apply", str(path), "--task-queue", task_queue)
    assert res.exit_code == 0, res.output
    assert "created schedule every-few-" in res.output
    assert "warning: no worker polls task queue" in res.output  # none yet: the runs would wait
    schedule_id = res.output.split("created schedule ")[1].split(":")[0].split(" ")[0]

    async with build_worker(client, task_queue=task_queue, catalog=BUILTIN, kinds=[job_kinds()["prompt"]]):
        runs = await wait_until("two scheduled runs with reports", lambda: len(run_folders(out)) >= 2 and
                                run_folders(out))
        res = await cli(cli_env, "schedule", "pause", str(path))
        assert res.exit_code == 0, res.output
        desc = await client.get_schedule_handle(schedule_id).describe()
        started = desc.info.num_actions
        await asyncio.sleep(5)  # two and a half periods
        assert (await client.get_schedule_handle(schedule_id).describe()).info.num_actions == started
        # the runs under way when it was paused end by themselves
        await wait_until("the started runs to end", lambda: len(run_folders(out)) >= started)

    for folder in runs[:2]:  # each a whole batch of its own
        report = json.loads((folder / "report.json").read_text())
        assert report["totals"]["succeeded"] == 2, report
        assert report["output_dir"] == str(folder)
        assert report["batch_id"].startswith(f"{schedule_id}-"), report["batch_id"]
        assert sorted(p.name for p in (folder / "topics").iterdir()) == ["enthalpy", "entropy"]
    assert len({r.name for r in runs}) == len(runs)
    listed = await cli(cli_env, "list", "--limit", "50")
    assert f"schedule {schedule_id}" in listed.output, listed.output
    ended = json.loads((runs[0] / "report.json").read_text())["batch_id"]
    status = await cli(cli_env, "status", ended)
    assert status.exit_code == 0 and str(runs[0]) in status.output, status.output
    # retry reads the run's own folder: its topics all succeeded there
    retried = await cli(cli_env, "retry", ended)
    assert retried.exit_code == 2 and "every topic of batch" in retried.output, retried.output

    desc = await client.get_schedule_handle(schedule_id).describe()
    res = await cli(cli_env, "schedule", "apply", str(path), "--task-queue", task_queue)
    assert res.exit_code == 0, res.output
    assert f"schedule {schedule_id} unchanged (paused)" in res.output, res.output
    again = await client.get_schedule_handle(schedule_id).describe()
    assert again.info.last_updated_at == desc.info.last_updated_at  # nothing was sent

    manifest(path, ["entropy", "enthalpy", "exergy"], "{every: 2s}", output=str(out))
    res = await cli(cli_env, "schedule", "apply", str(path), "--task-queue", task_queue)
    assert res.exit_code == 0, res.output
    assert f"updated schedule {schedule_id} (paused): topics: 2 (" in res.output, res.output
    assert "-> 3 (" in res.output and "when:" not in res.output  # the rest is as it was

    res = await cli(cli_env, "schedule", "describe", schedule_id)
    assert res.exit_code == 0 and "paused" in res.output and "every 2s" in res.output, res.output
    res = await cli(cli_env, "schedule", "list")
    assert schedule_id in res.output, res.output

    res = await cli(cli_env, "schedule", "delete", str(path))
    assert res.exit_code == 0 and f"deleted schedule {schedule_id}" in res.output, res.output
    res = await cli(cli_env, "schedule", "describe", schedule_id)
    assert res.exit_code == 2 and "no schedule" in res.output, res.output


async def test_trigger_starts_a_run_now(client: Client, cli_env: dict[str, str], task_queue: str,
                                        tmp_path: Path) -> None:
    out = tmp_path / "runs-{date}" / "at-{time}"
    path = manifest(tmp_path / "m.yaml", ["entropy"], "{cron: '0 3 1 1 *', paused: true}", output=str(out))
    res = await cli(cli_env, "schedule", "apply", str(path), "--task-queue", task_queue)
    assert res.exit_code == 0 and "(paused)" in res.output, res.output
    before = datetime.now(UTC)
    async with build_worker(client, task_queue=task_queue, catalog=BUILTIN, kinds=[job_kinds()["prompt"]]):
        res = await cli(cli_env, "schedule", "trigger", str(path))
        assert res.exit_code == 0, res.output
        reports = await wait_until("the triggered run's report",
                                   lambda: list(tmp_path.glob("runs-*/at-*/report.json")))
    [report] = reports
    # the placeholders are filled from the run's time: no folder of its own under them
    assert report.parent.parent.name == f"runs-{before:%Y-%m-%d}"
    assert re.fullmatch(r"at-\d{6}Z", report.parent.name)
    assert json.loads(report.read_text())["totals"]["succeeded"] == 1
    res = await cli(cli_env, "schedule", "delete", str(path))
    assert res.exit_code == 0, res.output


async def test_a_bad_schedule_is_refused_with_its_line(cli_env: dict[str, str], tmp_path: Path) -> None:
    path = manifest(tmp_path / "m.yaml", ["entropy"], "{cron: '0 3 * * 8', timezone: Mars/Olympus}")
    res = await cli(cli_env, "schedule", "apply", str(path))
    assert res.exit_code == 2, res.output
    assert f"{path}:5: schedule.cron: day of week 8 is not in 0-7" in res.output
    assert f"{path}:5: schedule.timezone: unknown time zone 'Mars/Olympus'" in res.output
    path = manifest(tmp_path / "m.yaml", ["entropy"], "{every: 0.5s}")
    res = await cli(cli_env, "schedule", "apply", str(path))
    assert res.exit_code == 2 and "every: must be at least 1s" in res.output, res.output
    path = manifest(tmp_path / "m.yaml", ["entropy"], "{cron: '@daily', every: 1h}")
    res = await cli(cli_env, "validate", str(path))
    assert res.exit_code == 2 and "give exactly one of `cron:` and `every:`" in res.output, res.output
    path.write_text("name: once\njob: prompt\nprompt: 'x {topic}'\ntopics: [a]\n")
    res = await cli(cli_env, "schedule", "apply", str(path))
    assert res.exit_code == 2 and "no `schedule:` block" in res.output, res.output


@pytest.mark.parametrize("expr", ["0 3 * * *", "*/15 9-17 * * mon-fri", "0 0 1 jan,jul *", "@daily",
                                  "0 0 * * 7", "30 0 0 1 1 * 2030", "0 9 * * monday", "5 4 * * sun/2"])
def test_cron_expressions_temporal_reads_pass(expr: str) -> None:
    assert check_cron(f"  {expr} ") == expr


@pytest.mark.parametrize(("expr", "says"), [
    ("0 3 * *", "has 4 field(s)"), ("61 * * * *", "minute 61 is not in 0-59"),
    ("0 24 * * *", "hour 24 is not in 0-23"), ("0 0 0 * *", "day of month 0 is not in 1-31"),
    ("0 0 * 13 *", "month 13 is not in 1-12"), ("0 0 * * 8", "day of week 8 is not in 0-7"),
    ("* * * * L", "day of week 'l' is not a number"), ("0 0 ? * *", "is not *, N, N-M"),
    ("5-1 * * * *", "runs backwards"), ("*/0 * * * *", "a step must be at least 1"),
    ("@every 1h", "use `every:`"), ("@sometimes", "unknown shortcut"),
    ("TZ=UTC 0 * * * *", "put the time zone in `timezone:`"), ("0 0 * foo *", "month 'foo'"),
])
def test_cron_expressions_temporal_cannot_read_are_refused(expr: str, says: str) -> None:
    with pytest.raises(ValueError, match=re.escape(says)):
        check_cron(expr)


def test_each_run_has_a_folder_of_its_own() -> None:
    when = datetime(2026, 11, 29, 3, 0, 5, tzinfo=UTC)
    assert run_output_dir("/o/nightly", when) == "/o/nightly/2026-11-29T030005Z"
    assert run_output_dir("/o/n-{date}/{time}", when) == "/o/n-2026-11-29/030005Z"
    assert fixed_part("/o/n-{date}/{time}") == "/o"
    assert fixed_part("/o/{date}") == "/o"
    assert fixed_part("/o/nightly") == "/o/nightly"
    assert len({overlap_policy(name) for name in OVERLAPS}) == len(OVERLAPS) == 6


async def test_submit_fills_the_placeholders_with_now(cli_env: dict[str, str], task_queue: str,
                                                      tmp_path: Path) -> None:
    path = manifest(tmp_path / "m.yaml", ["entropy"], "{every: 6h}", output=str(tmp_path / "o-{date}"))
    before = datetime.now(UTC)
    res = await cli(cli_env, "submit", str(path), "--wait", "--worker", "--task-queue", task_queue)
    assert res.exit_code == 0, res.output
    assert "submit runs it once now" in res.output
    days = {f"o-{before:%Y-%m-%d}", f"o-{datetime.now(UTC):%Y-%m-%d}"}  # midnight may pass
    [folder] = [p for p in tmp_path.iterdir() if p.name.startswith("o-")]
    assert folder.name in days and (folder / "report.json").is_file()


async def test_backfill_runs_each_due_time_into_its_own_folder(
        client: Client, cli_env: dict[str, str], task_queue: str, tmp_path: Path) -> None:
    out = tmp_path / "out"
    path = manifest(tmp_path / "m.yaml", ["entropy"], "{cron: '0 * * * *', paused: true, overlap: allow-all}",
                    output=str(out))
    res = await cli(cli_env, "schedule", "apply", str(path), "--task-queue", task_queue)
    assert res.exit_code == 0, res.output
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    start, end = now - timedelta(hours=3) + timedelta(minutes=1), now
    async with build_worker(client, task_queue=task_queue, catalog=BUILTIN, kinds=[job_kinds()["prompt"]]):
        res = await cli(cli_env, "schedule", "backfill", str(path), "--from", f"{start:%Y-%m-%dT%H:%M:%S}",
                        "--to", f"{end:%Y-%m-%dT%H:%M:%S}")
        assert res.exit_code == 0, res.output
        runs = await wait_until("three backfilled runs",
                                lambda: len(run_folders(out)) >= 3 and run_folders(out))
    # each run is named by the time it was due, not by when the backfill started it
    due = [now - timedelta(hours=h) for h in (2, 1, 0)]
    assert [r.name for r in runs] == [f"{d:%Y-%m-%dT%H%M%S}Z" for d in due], [r.name for r in runs]
    res = await cli(cli_env, "schedule", "backfill", str(path), "--from", "2026-01-02", "--to", "2026-01-01")
    assert res.exit_code == 2 and "must be after --from" in res.output, res.output
    res = await cli(cli_env, "schedule", "delete", str(path))
    assert res.exit_code == 0, res.output
