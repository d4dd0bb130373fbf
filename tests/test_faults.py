"""Real faults, injected into real processes: a worker killed with -9 mid-render, the embedded Temporal
server stopped mid-batch, `runner cancel` mid-render and `runner retry` afterwards. The LLM steps go
through the real anthropic client to the provider simulator (its request log shows what was asked);
manim and ffmpeg do the rendering."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from jobs.explainer.types import RenderOutput
from runner.client.server import _free_port
from runner.contract.types import BatchResult
from runner.isolation.proc import dies_with_parent
from tests.conftest import REPO
from tests.workers import results

pytestmark = pytest.mark.slow
RUNNER = str(Path(sys.executable).parent / "runner")
KEY = "sk-faults-test"


@pytest.fixture
def simulator(tmp_path: Path, cli_env: dict[str, str]) -> Iterator[tuple[Path, Path]]:
    """`runner simulate` in its own process; yields (catalog pointing at it, its request log)."""
    port = _free_port()
    log = tmp_path / "requests.jsonl"
    catalog = tmp_path / "models.yaml"
    catalog.write_text((REPO / "configs" / "models.simulated.yaml").read_text()
                       .replace("127.0.0.1:8765", f"127.0.0.1:{port}"))
    sim = subprocess.Popen([RUNNER, "simulate", "--port", str(port), "--log", str(log)], env=cli_env,
                           stdout=subprocess.PIPE, text=True, preexec_fn=dies_with_parent())
    assert sim.stdout is not None and "provider simulator on" in sim.stdout.readline()
    yield catalog, log
    sim.terminate()
    sim.wait(10)


def manifest(tmp_path: Path, name: str, topics: list[str]) -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(f"""\
name: {name}
job: explainer
concurrency: {len(topics)}
quality: low
narration: false
models: {{default: [sim-opus, sim-sonnet]}}
steps:
  render: {{heartbeat: 5s, retry: {{initial_interval: 1s}}}}
topics: [{", ".join(topics)}]
""")
    return path


def start_worker(env: dict[str, str], catalog: Path, task_queue: str, log: Path,
                 *extra: str) -> subprocess.Popen[bytes]:
    with open(log, "ab") as out:
        return subprocess.Popen([RUNNER, "worker", "--catalog", str(catalog), "--task-queue", task_queue,
                                 *extra],
                                env={**env, "RUNNER_SIM_KEY": KEY}, stdout=out, stderr=subprocess.STDOUT,
                                cwd=log.parent, preexec_fn=dies_with_parent())


def cli(args: list[str], env: dict[str, str], cwd: Path,
        timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([RUNNER, *args], env={**env, "RUNNER_SIM_KEY": KEY}, cwd=cwd,
                          capture_output=True, text=True, timeout=timeout)


async def wait_for(what: str, check: Callable[[], Any], timeout: float = 120.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def rendering(scenes: Path, scene: str) -> bool:
    """A render of ``scene`` is under way (its sandbox's scratch directory exists)."""
    return scenes.is_dir() and any(scenes.glob(f".render-{scene}-*"))


def manim_processes(marker: str) -> list[int]:
    """Pids of the sandboxes rendering in ``marker`` (a topic's directory, in their command line;
    not those checking claims) and of the manim processes inside them."""
    cmdlines: dict[int, str] = {}
    parents: dict[int, int] = {}
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                cmdlines[int(proc.name)] = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(
                    errors="replace")
                status = (proc / "status").read_text()
            except OSError:
                continue
            parents[int(proc.name)] = int(next(x.split()[1] for x in status.splitlines()
                                               if x.startswith("PPid:")))
    jails = {pid for pid, cmd in cmdlines.items()
             if "runner.isolation.jail" in cmd and marker in cmd and "/.render-" in cmd}
    return sorted(jails | {pid for pid, cmd in cmdlines.items()
                           if "manim render" in cmd and parents.get(pid) in jails})


def requests(log: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


async def activity_events(client: Client, workflow_id: str) -> tuple[Counter[str], dict[str, int], list[Any]]:
    """Per activity type: how many were scheduled, the attempt of the last start, completed results."""
    scheduled: Counter[str] = Counter()
    types: dict[int, str] = {}
    attempts: dict[str, int] = {}
    completed = []
    async for event in client.get_workflow_handle(workflow_id).fetch_history_events():
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            name = event.activity_task_scheduled_event_attributes.activity_type.name
            scheduled[name] += 1
            types[event.event_id] = name
        elif event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED:
            attrs = event.activity_task_started_event_attributes
            attempts[types[attrs.scheduled_event_id]] = attrs.attempt
        elif event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
            attrs = event.activity_task_completed_event_attributes
            completed.append((types[attrs.scheduled_event_id], attrs.result))
    return scheduled, attempts, completed


async def test_a_worker_stopped_mid_render_is_replaced_without_redoing_finished_work(
        tmp_path: Path, cli_env: dict[str, str], client: Client, simulator: tuple[Path, Path]) -> None:
    """SIGTERM: the worker stops taking work, gives the render its grace (2 s here, `--grace`; 10 s
    by default), then hands it back at once, and its manim goes with it; the retry on the next
    worker skips the scenes already rendered. (A worker killed with -9 mid-render, noticed by its
    silence, is tested in tests/test_object_store.py, the retry on a machine of its own.)"""
    sig = signal.SIGTERM
    catalog, sim_log = simulator
    task_queue = f"faults-{uuid.uuid4().hex[:8]}"
    path = manifest(tmp_path, "killed", ["Derivative of x^3"])
    scenes = tmp_path / "out" / "killed" / "topics" / "derivative-of-x-3" / "scenes"
    first = start_worker(cli_env, catalog, task_queue, tmp_path / "worker1.log", "--grace", "2")
    quality = "low"  # a scene takes longer than the 2 s grace (checked below)
    try:
        res = await asyncio.to_thread(cli, ["submit", str(path), "--catalog", str(catalog),
                                            "--task-queue", task_queue], cli_env, tmp_path)
        assert res.returncode == 0, res.stderr
        batch_id = res.stdout.splitlines()[-1]
        await wait_for("the second scene's render", lambda: rendering(scenes, "s2"))
        [s1] = scenes.glob(f"s1-{quality}-*.mp4")
        s1_stat = s1.stat()
        os.kill(first.pid, sig)
        code = await asyncio.to_thread(first.wait, 30)
        assert code == 0
        # its manim went with it (no orphan rendering for nobody)
        await wait_for("the orphaned render to die", lambda: not manim_processes(str(scenes)), timeout=5)
    finally:
        if first.poll() is None:
            first.kill()
    second = start_worker(cli_env, catalog, task_queue, tmp_path / "worker2.log")
    try:
        result = await asyncio.wait_for(
            client.get_workflow_handle(batch_id, result_type=BatchResult).result(), 300)
    finally:
        second.send_signal(signal.SIGTERM)
        await asyncio.to_thread(second.wait, 30)
    assert result.succeeded == 1, (tmp_path / "worker2.log").read_text()[-3000:]

    # Temporal's record: each finished activity ran once; only the render ran again (attempt 2)
    scheduled, attempts, completed = await activity_events(client, f"{batch_id}/derivative-of-x-3")
    # (the result file is written by a local activity: a marker, not a scheduled activity)
    assert scheduled == Counter({"runner.llm.complete": 2, "explainer.validate": 1, "explainer.render": 1,
                                 "explainer.merge": 1})
    assert attempts["runner.llm.complete"] == 1 and attempts["explainer.validate"] == 1
    if attempts["explainer.render"] == 1:
        pytest.fail("the render finished within the worker's grace period: nothing was handed back "
                    "(make the render longer)")
    assert attempts["explainer.render"] == 2
    [render_payload] = [r for name, r in completed if name == "explainer.render"]
    [render] = pydantic_data_converter.payload_converter.from_payloads(render_payload.payloads,
                                                                       [RenderOutput])
    # the retry skipped scene 1 (and what the grace period finished) ...
    assert render.rendered and "s1" not in render.rendered
    assert s1.stat().st_ino == s1_stat.st_ino and s1.stat().st_mtime == s1_stat.st_mtime  # ... kept as is
    # the provider's record: one request per LLM step, none repeated
    sent = requests(sim_log)
    assert len(sent) == 2 and len({r["digest"] for r in sent}) == 2
    assert all(r["status"] == 200 for r in sent)
    [topic] = results(tmp_path / "out" / "killed")
    render_step = next(s for s in topic["steps"] if s["name"] == "render")
    assert render_step["attempts"] == 2


async def test_the_embedded_server_stopped_mid_batch_and_started_again_loses_nothing(
        tmp_path: Path, cli_env: dict[str, str], simulator: tuple[Path, Path]) -> None:
    catalog, sim_log = simulator
    home = tmp_path / "home"
    env = {**cli_env, "RUNNER_HOME": str(home)}  # a server of its own: this test stops it
    started = await asyncio.to_thread(cli, ["server", "start", "--port", str(_free_port())], env, tmp_path)
    assert started.returncode == 0, started.stderr
    topics = ["Derivative of x^3", "Maclaurin series of cos(x)"]
    path = manifest(tmp_path, "restart", topics)
    worker = start_worker(env, catalog, "runner", tmp_path / "worker.log")
    try:
        res = await asyncio.to_thread(cli, ["submit", str(path), "--catalog", str(catalog)], env, tmp_path)
        assert res.returncode == 0, res.stderr
        batch_id = res.stdout.splitlines()[-1]
        out = tmp_path / "out" / "restart"
        await wait_for("a render", lambda: any(out.glob("topics/*/scenes/.render-s2-*")))
        port = json.loads((home / "server.json").read_text())["port"]
        stopped = await asyncio.to_thread(cli, ["server", "stop"], env, tmp_path)
        assert stopped.returncode == 0 and "stopped" in stopped.stdout
        await asyncio.sleep(3)
        assert worker.poll() is None  # the worker waits for the server to come back
        again = await asyncio.to_thread(cli, ["server", "start"], env, tmp_path)
        assert again.returncode == 0, again.stderr
        assert json.loads((home / "server.json").read_text())["port"] == port  # workers reconnect
        client = await Client.connect(f"127.0.0.1:{port}", data_converter=pydantic_data_converter)
        result = await asyncio.wait_for(
            client.get_workflow_handle(batch_id, result_type=BatchResult).result(), 300)
        status = await asyncio.to_thread(cli, ["status", batch_id], env, tmp_path)
    finally:
        worker.send_signal(signal.SIGTERM)
        await asyncio.to_thread(worker.wait, 30)
        await asyncio.to_thread(cli, ["server", "stop"], env, tmp_path)
    assert (result.succeeded, result.failed) == (2, 0), (tmp_path / "worker.log").read_text()[-3000:]
    reported = results(out)
    assert [t["topic"] for t in reported] == topics
    for topic in reported:
        assert [(s["name"], s["status"]) for s in topic["steps"]] == [
            (n, "succeeded") for n in ("decompose", "script", "validate", "render", "merge")]
        assert Path(topic["outputs"]["video"]).stat().st_size > 0
    assert status.returncode == 0 and f"batch {batch_id}" in status.stdout and "completed" in status.stdout
    assert "2 succeeded, 0 failed" in status.stdout
    # every LLM step was answered (4 of them); a result in flight during the outage may be asked again
    assert len({r["digest"] for r in requests(sim_log) if r["status"] == 200}) == 4


async def test_cancel_mid_render_stops_manim_and_retry_finishes_without_redoing_steps(
        tmp_path: Path, cli_env: dict[str, str], client: Client, simulator: tuple[Path, Path]) -> None:
    catalog, sim_log = simulator
    task_queue = f"faults-{uuid.uuid4().hex[:8]}"
    path = manifest(tmp_path, "cancelled", ["Derivative of x^3", "Maclaurin series of cos(x)"])
    out = tmp_path / "out" / "cancelled"
    worker = start_worker(cli_env, catalog, task_queue, tmp_path / "worker.log")
    try:
        res = await asyncio.to_thread(cli, ["submit", str(path), "--catalog", str(catalog),
                                            "--task-queue", task_queue], cli_env, tmp_path)
        assert res.returncode == 0, res.stderr
        batch_id = res.stdout.splitlines()[-1]
        def both_rendering() -> bool:  # both topics past validate (claims are checked in a sandbox too)
            scenes = list(out.glob("topics/*/scenes"))
            return (len(scenes) == 2 and all(any(d.glob(".render-*")) or any(d.glob("*.mp4"))
                                             for d in scenes)
                    and any(out.glob("topics/*/scenes/.render-s2-*")) and bool(manim_processes(str(out))))

        await wait_for("both topics rendering", both_rendering)
        status = await asyncio.to_thread(cli, ["status", batch_id, "--topics"], cli_env, tmp_path)
        assert status.returncode == 0 and "running" in status.stdout
        assert any(" render " in line for line in status.stdout.splitlines()), status.stdout

        asked = time.monotonic()
        cancelling = asyncio.create_task(asyncio.to_thread(cli, ["cancel", batch_id], cli_env, tmp_path))
        await wait_for("manim to stop", lambda: not manim_processes(str(out)), timeout=10)
        stopped_in = time.monotonic() - asked
        cancel = await cancelling
        assert cancel.returncode == 0, cancel.stderr
        print(f"manim stopped {stopped_in:.1f} s after `runner cancel`; the command took "
              f"{time.monotonic() - asked:.1f} s")
        assert f"batch {batch_id} is cancelled; report: {out / 'report.md'}" in cancel.stdout
        report = json.loads((out / "report.json").read_text())
        assert report["cancelled"] is True and report["totals"]["cancelled"] >= 1
        topics = results(out)
        cancelled = [t["id"] for t in topics if t["status"] == "cancelled"]
        assert "derivative-of-x-3" in cancelled or "maclaurin-series-of-cos-x" in cancelled
        assert [(f["id"], f["status"]) for f in report["failures"]] == [
            (t["id"], t["status"]) for t in topics if t["status"] != "succeeded"]
        for topic in topics:
            if topic["status"] == "cancelled":
                assert topic["failed_step"] == "render"
        assert "**Cancelled** (at render)" in (out / "report.md").read_text()
        asked_before = len(requests(sim_log))

        retry = await asyncio.to_thread(cli, ["retry", batch_id, "--wait", "--no-worker"], cli_env,
                                        tmp_path)
        assert retry.returncode == 0, retry.stdout + retry.stderr
    finally:
        worker.send_signal(signal.SIGTERM)
        await asyncio.to_thread(worker.wait, 30)
    assert retry.stdout.splitlines()[0].startswith(f"retrying batch {batch_id}: ")
    assert retry.stdout.splitlines()[-1] == str(out / "report.json")
    report = json.loads((out / "report.json").read_text())
    assert report["totals"]["succeeded"] == 2 and not report["cancelled"]
    topics = results(out)
    assert {t["id"] for t in topics} == {"derivative-of-x-3", "maclaurin-series-of-cos-x"}
    for topic in topics:
        steps = {s["name"]: s for s in topic["steps"]}
        if topic["id"] in cancelled:  # finished steps reused, the rest run
            assert [steps[n]["reused"] for n in ("decompose", "script", "validate", "render", "merge")] \
                == [True, True, True, False, False]
    assert len(requests(sim_log)) == asked_before == 4  # no LLM step was asked again
