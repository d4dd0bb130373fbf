"""Workers that share nothing but Temporal and an object store (a real S3 API: moto in server mode on
loopback). Each process has its own working directory and RUNNER_HOME; the batch's output is an
``s3://`` URL. Worker A runs the workflows, the LLM calls and the ordinary steps; the renders go to
a render queue (``queue: render``) served by worker B, which is killed with -9 mid-render and
replaced by a fresh B2 that resumes from the scenes B published to the bucket."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from jobs.explainer.types import RenderOutput
from runner.client.server import ServerInfo
from runner.contract.types import BatchResult
from runner.isolation.proc import dies_with_parent
from tests.conftest import S3
from tests.test_faults import RUNNER, manim_processes, wait_for

pytestmark = pytest.mark.slow
TOPICS = {"derivative-of-x-2": "Derivative of x^2", "pythagoras": "The Pythagorean theorem"}


class Machine:
    """A process's own working directory and RUNNER_HOME; only Temporal and the bucket are shared."""

    def __init__(self, root: Path, name: str, temporal: ServerInfo, s3: S3) -> None:
        self.cwd = root / name
        self.home = self.cwd / "home"
        self.home.mkdir(parents=True)
        self.env = {k: v for k, v in os.environ.items()
                    if not k.startswith(("TEMPORAL_", "AWS_", "RUNNER_"))}
        self.env.update(s3.env, RUNNER_HOME=str(self.home), RUNNER_CACHE="off",
                        TEMPORAL_ADDRESS=temporal.address,
                        TEMPORAL_CONFIG_FILE=str(self.home / "no-such-temporal.toml"))
        self.log = self.cwd / "worker.log"

    def worker(self, task_queue: str, queues: str) -> subprocess.Popen[bytes]:
        with open(self.log, "ab") as out:
            return subprocess.Popen([RUNNER, "worker", "--task-queue", task_queue, "--queues", queues],
                                    env=self.env, cwd=self.cwd, stdout=out, stderr=subprocess.STDOUT,
                                    preexec_fn=dies_with_parent())

    def run(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run([RUNNER, *args], env=self.env, cwd=self.cwd, capture_output=True,
                              text=True, timeout=timeout)

    def left_behind(self) -> list[str]:
        """What the process left in its working directory besides its home and log."""
        return sorted(str(p.relative_to(self.cwd)) for p in self.cwd.iterdir()
                      if p not in (self.home, self.log))


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


def rendering(machine: Machine, s3: S3, topic: str, scene: str) -> bool:
    """``machine`` renders ``scene`` of ``topic`` (its sandbox's scratch folder is in the step's
    mirror of the bucket)."""
    return any(machine.home.glob(f"scratch/*/s3/{s3.bucket}/out/topics/{topic}/scenes/.render-{scene}-*"))


async def histories(client: Client, batch_id: str) -> dict[str, list[Any]]:
    """Every event of the batch's workflow and its topics' (by workflow id)."""
    found = {}
    for wid in [batch_id, *(f"{batch_id}/{t}" for t in TOPICS)]:
        found[wid] = [e async for e in client.get_workflow_handle(wid).fetch_history_events()]
    return found


def started_by(events: list[Any]) -> dict[str, set[str]]:
    """Per activity type, the identities of the workers that started it."""
    types = {e.event_id: e.activity_task_scheduled_event_attributes.activity_type.name
             for e in events if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED}
    who: dict[str, set[str]] = {}
    for e in events:
        if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED:
            attrs = e.activity_task_started_event_attributes
            who.setdefault(types[attrs.scheduled_event_id], set()).add(attrs.identity)
    return who


@pytest.fixture
def machines(tmp_path: Path, temporal_server: ServerInfo, s3: S3) -> Iterator[dict[str, Machine]]:
    yield {name: Machine(tmp_path, name, temporal_server, s3) for name in ("client", "a", "b1", "b2")}


async def test_two_workers_share_only_temporal_and_the_bucket_and_a_killed_render_resumes_from_it(
        machines: dict[str, Machine], s3: S3, client: Client, tmp_path: Path) -> None:
    task_queue = f"store-{uuid.uuid4().hex[:8]}"
    laptop, a, b1, b2 = machines["client"], machines["a"], machines["b1"], machines["b2"]
    manifest = laptop.cwd / "batch.yaml"
    manifest.write_text(f"""\
name: stored
job: explainer
concurrency: 2
quality: low
narration: false
output_dir: {s3.url("out")}
steps:
  render: {{queue: render, heartbeat: 5s, retry: {{initial_interval: 1s}}}}
topics:
  - Derivative of x^2
  - {{topic: The Pythagorean theorem, id: pythagoras}}
""")
    workers = {"a": a.worker(task_queue, "workflows,llm,steps"), "b1": b1.worker(task_queue, "steps:render")}
    try:
        res = await asyncio.to_thread(laptop.run, "submit", str(manifest), "--task-queue", task_queue)
        assert res.returncode == 0, res.stdout + res.stderr
        assert f"output {s3.url('out')}" in res.stdout
        batch_id = res.stdout.splitlines()[-1]
        # B renders; once the first topic's scene 1 is in the bucket and scene 2 under way: kill -9
        await wait_for("B to render scene 2", lambda: rendering(b1, s3, "derivative-of-x-2", "s2"), 180)
        [s1] = [k for k in s3.keys("out/topics/derivative-of-x-2/scenes/")
                if re.search(r"/s1-low-\w+\.mp4$", k)]
        s1_before = s3.api.head_object(Bucket=s3.bucket, Key=s1)
        assert manim_processes(str(b1.home))  # B renders in its sandbox ...
        os.kill(workers["b1"].pid, signal.SIGKILL)
        workers["b1"].wait(30)
        # ... and its manim went with it (no orphan rendering for nobody)
        await wait_for("the orphaned renders to die", lambda: not manim_processes(str(b1.home)), 5)
        workers["b2"] = b2.worker(task_queue, "steps:render")
        result = await asyncio.wait_for(
            client.get_workflow_handle(batch_id, result_type=BatchResult).result(), 300)
    finally:
        for proc in workers.values():
            stop(proc)
    assert result.succeeded == 2, (a.log.read_text()[-2000:], b2.log.read_text()[-2000:])

    # the videos and the reports are in the bucket, and no machine wrote outputs of its own
    keys = s3.keys("out/")
    reports = {"out/report.json", "out/report.md", "out/results.jsonl"}
    assert {f"out/{t}.mp4" for t in TOPICS} | reports <= set(keys)
    assert all(keys[f"out/{t}.mp4"] > 10_000 for t in TOPICS)
    assert result.report_json == s3.url("out", "report.json")
    assert laptop.left_behind() == ["batch.yaml"]
    assert a.left_behind() == b1.left_behind() == b2.left_behind() == []
    # the steps' scratch folders went with their steps (but the killed worker's: a worker started
    # with the same RUNNER_HOME removes it)
    assert [p for m in (a, b2) for p in (m.home / "scratch").glob("*")] == []
    left = list((b1.home / "scratch").glob("*"))
    assert left and all(p.name.startswith(f"{workers['b1'].pid}-") for p in left)
    proc = b1.worker(task_queue, "steps:render")
    try:
        await wait_for("the new worker to clear the killed one's scratch",
                       lambda: not any(p.exists() for p in left), 30)
    finally:
        stop(proc)

    # who did what: A the workflows' steps, B1 and then B2 the renders; the merge ran on A
    events = await histories(client, batch_id)
    pids = {name: str(p.pid) for name, p in workers.items()}
    for topic in TOPICS:
        who = started_by(events[f"{batch_id}/{topic}"])
        assert all(i.startswith(pids["a"] + "@") for i in who["explainer.validate"] | who["explainer.merge"])
        assert who["explainer.render"] and all(i.split("@")[0] in (pids["b1"], pids["b2"])
                                               for i in who["explainer.render"])
    # the killed render resumed on B2 from the bucket: scene 1 was not rendered again
    topic_events = events[f"{batch_id}/derivative-of-x-2"]
    [render_done] = [e for e in topic_events if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED
                     and any(s.event_id == e.activity_task_completed_event_attributes.scheduled_event_id
                             and s.activity_task_scheduled_event_attributes.activity_type.name
                             == "explainer.render" for s in topic_events)]
    [render] = pydantic_data_converter.payload_converter.from_payloads(
        render_done.activity_task_completed_event_attributes.result.payloads, [RenderOutput])
    assert render.rendered[0] == "s2" and "s1" not in render.rendered
    assert all(v.startswith(s3.url("out", "topics")) for v in render.videos)
    s1_after = s3.api.head_object(Bucket=s3.bucket, Key=s1)
    assert (s1_after["ETag"], s1_after["LastModified"]) == (s1_before["ETag"], s1_before["LastModified"])
    starts = [e.activity_task_started_event_attributes for e in topic_events
              if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED]
    assert max(s.attempt for s in starts) == 2  # the render's second attempt, nothing else retried

    # the secret key is nowhere: not in any history, report or log
    secret = s3.env["AWS_SECRET_ACCESS_KEY"]
    for wid, evs in events.items():
        assert all(secret not in str(e) for e in evs), wid
    for key in keys:
        if key.endswith((".json", ".jsonl", ".md")):
            assert secret not in s3.api.get_object(Bucket=s3.bucket, Key=key)["Body"].read().decode(), key
    for machine in machines.values():
        assert not machine.log.exists() or secret not in machine.log.read_text(errors="replace")

    # a laptop with credentials: status reads the report from the bucket, fetch downloads the outputs
    res = await asyncio.to_thread(laptop.run, "status", batch_id)
    assert res.returncode == 0 and "2 succeeded" in res.stdout and s3.url("out", "report.md") in res.stdout
    res = await asyncio.to_thread(laptop.run, "fetch", batch_id, "--to", "got")
    assert res.returncode == 0, res.stderr
    got = {str(p.relative_to(laptop.cwd / "got")): p.stat().st_size
           for p in (laptop.cwd / "got").rglob("*") if p.is_file()}
    assert got == {k[len("out/"):]: size for k, size in keys.items() if not k.startswith("out/.runner/")}
    res = await asyncio.to_thread(laptop.run, "fetch", batch_id, "--to", "got")
    assert res.returncode == 0 and f"0 files fetched (0.0 MB), {len(got)} already there" in res.stdout
    report = json.loads((laptop.cwd / "got" / "report.json").read_text())
    assert report["output_dir"] == s3.url("out")
    # retry reads every topic's result file from the bucket: all succeeded, nothing to retry
    res = await asyncio.to_thread(laptop.run, "retry", batch_id)
    assert res.returncode == 2 and "nothing to retry" in res.stderr, res.stderr


def test_bad_store_input_fails_before_anything_starts(machines: dict[str, Machine], s3: S3) -> None:
    laptop = machines["client"]
    base = "name: bad\njob: prompt\nprompt: 'Define {topic}'\ntopics: [a]\noutput_dir: "
    cases = {
        "nosuch://bucket/x": "unknown storage protocol nosuch://",
        "s3://key:secret@bucket/x": "must not carry credentials",
        f"s3://{s3.bucket}-missing/x": "not writable (not found",
    }
    for url, says in cases.items():
        (laptop.cwd / "bad.yaml").write_text(base + url + "\n")
        res = laptop.run("submit", "bad.yaml", "--no-wait", "--no-worker")
        assert res.returncode == 2 and says in res.stderr, (url, res.stderr)
        assert "Traceback" not in res.stderr and "secret@" not in res.stderr
    # located: the file, the line and the key
    (laptop.cwd / "bad.yaml").write_text(base + "nosuch://bucket/x\n")
    res = laptop.run("validate", "bad.yaml")
    assert res.returncode == 2 and "bad.yaml:5: output_dir:" in res.stderr, res.stderr
    # no credentials at all (and no profile to find them in)
    (laptop.cwd / "bad.yaml").write_text(base + s3.url("x") + "\n")
    env = {k: v for k, v in laptop.env.items() if k not in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")}
    env.update(AWS_CONFIG_FILE=str(laptop.cwd / "none"), AWS_SHARED_CREDENTIALS_FILE=str(laptop.cwd / "none"),
               AWS_EC2_METADATA_DISABLED="true")
    res = subprocess.run([RUNNER, "submit", "bad.yaml", "--no-wait", "--no-worker"], env=env,
                         cwd=laptop.cwd, capture_output=True, text=True, timeout=120)
    assert res.returncode == 2 and "NoCredentialsError" in res.stderr, res.stderr
    assert s3.keys() == {}  # nothing written: no topic file, no probe left
