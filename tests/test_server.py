"""The embedded Temporal dev server: started, reused, persisted to SQLite, stopped."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from temporalio.client import Client, WorkflowExecutionStatus

from runner.cli import main
from runner.client import server
from runner.client.server import ServerInfo, _free_port


def test_running_server_is_reused(runner_home: Path, temporal_server: ServerInfo) -> None:
    assert server.status(runner_home) == temporal_server
    again, started = server.start(runner_home)
    assert (again, started) == (temporal_server, False)


def test_server_cli_reports_status(tmp_path: Path, runner_home: Path,
                                   temporal_server: ServerInfo) -> None:
    cli = CliRunner()
    res = cli.invoke(main, ["server", "status"], env={"RUNNER_HOME": str(runner_home)})
    assert res.exit_code == 0
    assert res.output.startswith(f"running: {temporal_server.address} (pid {temporal_server.pid})")
    res = cli.invoke(main, ["server", "status"], env={"RUNNER_HOME": str(tmp_path)})
    assert (res.exit_code, res.output) == (1, f"not running (state directory {tmp_path})\n")
    res = cli.invoke(main, ["server", "stop"], env={"RUNNER_HOME": str(tmp_path)})
    assert (res.exit_code, res.output) == (0, "no server was running\n")


async def test_workflows_survive_a_server_restart(tmp_path: Path) -> None:
    info, started = server.start(tmp_path, port=_free_port(), owned=True)
    try:
        assert started
        cmdline = Path(f"/proc/{info.pid}/cmdline").read_bytes().split(b"\0")
        assert b"journal_mode=wal" in cmdline and b"synchronous=normal" in cmdline
        assert Path(info.db) == tmp_path / "temporal.db"
        client = await Client.connect(info.address)
        # No worker polls this queue: the workflow just stays open on the server.
        await client.start_workflow("never-runs", id="persisted", task_queue="nobody")

        stopped = server.stop(tmp_path)
        assert stopped is not None and server.status(tmp_path) is None

        info2, started2 = server.start(tmp_path, port=info.port, owned=True)
        assert started2 and info2.pid != info.pid
        client = await Client.connect(info2.address)
        desc = await client.get_workflow_handle("persisted").describe()
        assert desc.status == WorkflowExecutionStatus.RUNNING
    finally:
        server.stop(tmp_path)


def test_stale_or_corrupt_state_is_tolerated(tmp_path: Path) -> None:
    (tmp_path / "server.json").write_text("{not json")
    assert server.status(tmp_path) is None
    assert server.stop(tmp_path) is None
    (tmp_path / "server.json").write_text(
        '{"pid": 999999, "port": 1, "ui_port": 2, "db": "x", "log": "y"}')
    res = CliRunner().invoke(main, ["server", "stop"], env={"RUNNER_HOME": str(tmp_path)})
    assert (res.exit_code, res.output) == (0, "no server was running\n")
    assert not (tmp_path / "server.json").exists()
