"""The CLI as users meet it: help texts, validation exit codes, and submit starting nothing on bad
input (checked on the real server)."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from temporalio.client import Client

from runner.cli import main
from runner.client.server import ServerInfo

REPO = Path(__file__).resolve().parent.parent
COMMANDS = [[], ["submit"], ["validate"], ["worker"], ["jobs"], ["models"], ["server"], ["server", "start"],
            ["server", "stop"], ["server", "status"]]


@pytest.mark.parametrize("args", COMMANDS, ids=lambda a: " ".join(a) or "runner")
def test_every_command_has_help(args: list[str]) -> None:
    res = CliRunner().invoke(main, [*args, "--help"])
    assert res.exit_code == 0
    assert res.output.startswith("Usage: ")
    assert len(res.output.splitlines()) > 5


def test_validate_ok_and_bad(tmp_path: Path) -> None:
    cli = CliRunner()
    demo = REPO / "configs" / "examples" / "demo.yaml"
    res = cli.invoke(main, ["validate", str(demo)])
    assert res.exit_code == 0
    assert res.output == (f"{demo}: ok: batch 'demo', job explainer, 3 topics, concurrency 3, "
                          f"output {Path.cwd() / 'out' / 'demo'}, step cache off\n")  # (conftest)
    # the step cache is on by default, under $RUNNER_HOME; $RUNNER_CACHE moves it
    res = cli.invoke(main, ["validate", str(demo)], env={"RUNNER_CACHE": None,
                                                         "RUNNER_HOME": str(tmp_path / "home")})
    assert res.output.endswith(f", step cache {tmp_path / 'home' / 'cache'}\n"), res.output
    res = cli.invoke(main, ["validate", str(demo)], env={"RUNNER_CACHE": str(tmp_path / "ci")})
    assert res.output.endswith(f", step cache {tmp_path / 'ci'}\n"), res.output
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: ok\njob: explainer\nquality: best\ntopics:\n  - a\n  - {topic: b, x: 1}\n")
    res = cli.invoke(main, ["validate", str(bad)])
    assert res.exit_code == 2
    assert res.stderr == (
        f"{bad}:3: quality: must be one of low, medium, high\n"
        f"{bad}:6: topics[1].x: unknown key (allowed: claim_regenerations, code_repairs, crf, id, "
        "models, narration, quality, reencode, steps, subtitles, topic, voice)\n"
        "2 problems found; nothing was started.\n")


def test_the_shipped_catalog_and_its_example_need_no_key_to_be_checked(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """configs/models.yaml names the pipeline's chain (Opus, Sonnet, a free OpenRouter model) with
    prices and limits; `runner models` lists it and says which keys this environment has; the
    example that uses the chain validates with no key set."""
    for name in ("ANTHROPIC_API_KEY", "OPENROUTER_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(REPO)  # the default catalog: ./configs/models.yaml
    cli = CliRunner()
    res = cli.invoke(main, ["validate", "configs/examples/quantum-sketch.yaml"])
    assert res.exit_code == 0, res.output
    assert "job explainer, 6 topics" in res.output
    res = cli.invoke(main, ["models"])
    assert res.exit_code == 0, res.output
    lines = res.output.splitlines()
    assert lines[0] == "catalog: configs/models.yaml"
    rows = {line.split()[0]: line for line in lines[1:]}
    assert set(rows) == {"claude-opus", "claude-sonnet", "openrouter-free", "offline"}
    assert "anthropic:claude-opus-" in rows["claude-opus"]
    assert "$ANTHROPIC_API_KEY NOT set here" in rows["claude-opus"]
    assert "litellm:openrouter/" in rows["openrouter-free"] and "20 rpm" in rows["openrouter-free"]
    assert "$5 in / $25 out per Mtok" in rows["claude-opus"] and "no key needed" in rows["offline"]
    value = f"not-a-key-{uuid.uuid4().hex}"  # made up here: no key-like text is committed
    res = cli.invoke(main, ["models"], env={"ANTHROPIC_API_KEY": value})
    assert "$ANTHROPIC_API_KEY set here" in res.output and value not in res.output


async def test_submit_with_bad_manifest_starts_nothing(
        tmp_path: Path, client: Client, cli_env: dict[str, str]) -> None:
    before = [w.id async for w in client.list_workflows()]
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad-batch\njob: explainer\nmodels: {default: [nope]}\ntopics: [a, a]\n")
    res = CliRunner().invoke(main, ["submit", str(bad), "--wait"], env=cli_env)
    assert res.exit_code == 2
    assert "models.default[0]: unknown model 'nope'" in res.stderr
    assert "topics[1]: duplicate topic id 'a'" in res.stderr
    after = [w.id async for w in client.list_workflows()]
    assert after == before


async def runs_of(client: Client, batch_id: str, until: Callable[[dict[str, str]], bool]) -> dict[str, str]:
    """The batch's runs (run id -> status) as the visibility store lists them, once ``until`` holds
    (the store catches up with a terminate or a start a moment later), or after 5 s."""
    for _ in range(50):
        runs = {r.run_id: r.status.name async for r in client.list_workflows(f'WorkflowId = "{batch_id}"')
                if r.status}
        if until(runs):
            break
        await asyncio.sleep(0.1)
    return runs


async def test_submit_prints_the_batch_id_and_a_running_batch_is_attached_not_doubled(
        tmp_path: Path, client: Client, cli_env: dict[str, str], task_queue: str) -> None:
    manifest = tmp_path / "m.yaml"
    manifest.write_text(f"name: nowait\njob: explainer\noutput_dir: {tmp_path}/out\n"
                        "topics: [Derivative of x^3]\n")

    def submit(*extra: str) -> list[str]:
        # no worker polls this task queue: the batch stays running
        res = CliRunner().invoke(main, ["submit", str(manifest), "--task-queue", task_queue, *extra],
                                 env=cli_env)
        assert res.exit_code == 0, res.output
        return list(res.output.splitlines())

    # the CLI runs its own event loop: call it from a thread, as a separate process would
    first = await asyncio.to_thread(submit)
    batch_id = first[-1]
    assert re.fullmatch(r"nowait-[0-9a-f]{6}", batch_id)
    assert first[0].startswith(f"started batch {batch_id}: 1 topics")
    handle = client.get_workflow_handle(batch_id)
    desc = await handle.describe()
    assert (desc.workflow_type, desc.task_queue) == ("runner.batch", task_queue)

    again = await asyncio.to_thread(submit)
    assert again[-1] == batch_id
    assert again[0].startswith(f"batch {batch_id} is already running")
    assert (await handle.describe()).run_id == desc.run_id  # no second batch: still the first run

    fresh = await asyncio.to_thread(submit, "--new")
    assert fresh[0].startswith(f"terminated the running batch {batch_id} and started it afresh")
    runs = await runs_of(client, batch_id,
                         lambda runs: runs.get(desc.run_id) == "TERMINATED" and len(runs) == 2)
    assert len(runs) == 2 and runs[desc.run_id] == "TERMINATED"
    await handle.terminate("test done")


async def test_temporal_errors_are_one_line(
        tmp_path: Path, client: Client, cli_env: dict[str, str], temporal_server: ServerInfo) -> None:
    manifest = tmp_path / "m.yaml"
    manifest.write_text(f"name: nsbatch\njob: explainer\noutput_dir: {tmp_path}/out\ntopics: [t]\n")
    env = {**cli_env, "TEMPORAL_ADDRESS": temporal_server.address, "TEMPORAL_NAMESPACE": "nope"}
    res = await asyncio.to_thread(CliRunner().invoke, main, ["submit", str(manifest)], env=env)
    assert res.exit_code == 1
    assert res.stderr.startswith("error: Temporal refused the request (NOT_FOUND): ")
    assert "Traceback" not in res.stderr


async def test_unwritable_output_dir_starts_nothing(
        tmp_path: Path, client: Client, cli_env: dict[str, str]) -> None:
    before = [w.id async for w in client.list_workflows()]
    manifest = tmp_path / "m.yaml"
    manifest.write_text("name: ro\njob: explainer\noutput_dir: /proc/runner-out\ntopics: [t]\n")
    res = await asyncio.to_thread(CliRunner().invoke, main, ["submit", str(manifest), "--wait"],
                                  env=cli_env)
    assert res.exit_code == 2  # a system folder: refused before submit's probe (see test_hostile)
    assert "m.yaml:3: output_dir: /proc/runner-out is a system folder" in res.stderr, res.stderr
    assert [w.id async for w in client.list_workflows()] == before
    # the probe itself: a bucket that does not exist is tests/test_object_store.py's
