"""Record the histories that tests/test_replay.py replays: real batches on a real embedded server
with real workers (offline model, manim, ffmpeg), one JSON file per workflow.

Run it (``make histories``) when a workflow change is *meant* to be incompatible, after bumping
what must be bumped, and commit the new files. Never to make a failing replay pass by accident.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import sys
import tempfile
from pathlib import Path

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from runner.client import server
from runner.client.control import plan_retry
from runner.client.identity import batch_id_for, batch_input
from runner.client.submit import start_batch
from runner.config.catalog import BUILTIN
from runner.config.manifest import BatchPlan, load_manifest
from runner.contract.names import child_id
from runner.worker.assembly import build_worker

HERE = Path(__file__).resolve().parent
TASK_QUEUE = "record"

MANIFESTS = {
    # two explainer topics, one of them with a step policy override
    "explainer": """\
name: rec-explainer
job: explainer
concurrency: 2
steps: {render: {heartbeat: 10s}}
topics:
  - Derivative of x^3
  - {topic: Factor x^2 - 1, id: factor, steps: {merge: {retry: {maximum_attempts: 2}}}}
""",
    # plain inference, text and JSON (the JSON answer is valid on the first try)
    "prompt": """\
name: rec-prompt
job: prompt
prompt: "Explain {topic} in one line."
output: json
topics: [entropy, enthalpy]
""",
    # cancelled mid-render, then retried (the retry reuses the finished steps)
    "cancelled": """\
name: rec-cancel
job: explainer
concurrency: 1
quality: medium
steps: {render: {heartbeat: 10s}}
topics: [Maclaurin series of cos(x), Derivative of x^3]
""",
    # a window smaller than the batch: starts as slots free, ends heard by signal
    "window": """\
name: rec-window
job: prompt
concurrency: 2
prompt: "Explain {topic} in one line."
topics: [entropy, enthalpy, exergy, heat, work, power, pressure, volume]
""",
}
GROUPS = ("plain", "cancelled", "window")


def plan(name: str, out: Path) -> BatchPlan:
    path = out / f"{name}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(MANIFESTS[name])
    return load_manifest(path, BUILTIN, cwd=out)


async def save(client: Client, workflow_id: str, run_id: str | None, name: str) -> None:
    history = await client.get_workflow_handle(workflow_id, run_id=run_id).fetch_history()
    path = HERE / f"{name}.json"
    path.write_text(json.dumps({"workflow_id": workflow_id, "history": json.loads(history.to_json())},
                               indent=1) + "\n")
    print(f"wrote {path.relative_to(HERE.parent.parent)}")


async def record(client: Client, out: Path, groups: tuple[str, ...] = GROUPS) -> None:
    if groups == GROUPS:
        for old in HERE.glob("*.json"):
            old.unlink()
    async with build_worker(client, task_queue=TASK_QUEUE, catalog=BUILTIN):
        if "window" in groups:
            p = plan("window", out)
            inp = batch_input(p, batch_id_for(p), TASK_QUEUE)
            await (await start_batch(client, inp)).result()
            await save(client, inp.batch_id, None, "window-batch")
        if "plain" in groups:
            await record_plain(client, out)
        if "cancelled" in groups:
            await record_cancelled(client, out)


async def record_plain(client: Client, out: Path) -> None:
    for name in ("explainer", "prompt"):
        p = plan(name, out)
        inp = batch_input(p, batch_id_for(p), TASK_QUEUE)
        handle = await start_batch(client, inp)
        await handle.result()
        await save(client, inp.batch_id, None, f"{name}-batch")
        for topic in p.topics:
            await save(client, child_id(inp.batch_id, topic.id), None, f"{name}-{topic.id}")


async def record_cancelled(client: Client, out: Path) -> None:
    p = plan("cancelled", out)
    inp = batch_input(p, batch_id_for(p), TASK_QUEUE)
    handle = await start_batch(client, inp)
    first = p.topics[0].id
    scenes = Path(inp.output_dir) / "topics" / first / "scenes"
    while not any(scenes.glob(".render-s2-*")):  # the second scene's render is under way
        await asyncio.sleep(0.1)
    await handle.cancel()
    try:
        await handle.result()
    except Exception:
        pass
    cancelled_run = (await handle.describe()).run_id
    await save(client, inp.batch_id, cancelled_run, "cancelled-batch")
    await save(client, child_id(inp.batch_id, first), None, "cancelled-topic")
    retry = await plan_retry(client, inp.batch_id)
    handle = await start_batch(client, retry.inp)
    await handle.result()
    await save(client, inp.batch_id, None, "retried-batch")
    await save(client, child_id(inp.batch_id, first), None, "retried-topic")


def main() -> None:
    """``python -m tests.histories.record [GROUP...]``: every group (the old files replaced), or
    the named ones (the others' files stay)."""
    groups = tuple(sys.argv[1:]) or GROUPS
    if unknown := set(groups) - set(GROUPS):
        sys.exit(f"unknown group(s) {', '.join(sorted(unknown))}; groups: {', '.join(GROUPS)}")
    home = Path(tempfile.mkdtemp(prefix="runner-record-"))
    try:
        info, _ = server.start(home, port=server._free_port(), owned=True)
        try:
            async def go() -> None:
                client = await Client.connect(info.address, data_converter=pydantic_data_converter)
                await record(client, home / "work", groups)

            asyncio.run(go())
        finally:
            server.stop(home)
    finally:
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
