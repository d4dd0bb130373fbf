"""Batch delivery (`delivery: batch`): a batch's LLM calls gathered into provider batches (Anthropic's
Message Batches API, through the real anthropic SDK against the provider simulator), submitted once
per window, polled with durable timers, each answer sent to its own topic."""

from __future__ import annotations

import contextlib
import json
import re
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from runner.isolation.proc import dies_with_parent
from tests.simulated import RUNNER, simulated
from tests.workers import results

pytestmark = pytest.mark.slow


def sim_log(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def creates(path: Path) -> list[dict[str, Any]]:
    return [e for e in sim_log(path) if e.get("api") == "batch" and e.get("op") == "create"]


class Rig:
    """The provider simulator, a catalog pointing at it, and workers started and stopped here."""

    def __init__(self, tmp_path: Path, cli_env: dict[str, str], task_queue: str, *sim_args: str) -> None:
        self.tmp, self.queue = tmp_path, task_queue
        self.procs: list[subprocess.Popen[str]] = []
        self.stack = contextlib.ExitStack()
        sim = self.stack.enter_context(simulated(tmp_path, cli_env, "--rpm", "6000", *sim_args))
        self.port, self.log, self.catalog, self.env = sim.port, sim.log, sim.catalog, sim.env

    def spawn(self, argv: list[str], log: Path | None = None) -> subprocess.Popen[str]:
        out = log.open("w") if log else subprocess.PIPE
        proc = subprocess.Popen(argv, env=self.env, cwd=self.tmp, stdout=out,
                                stderr=subprocess.STDOUT, text=True, preexec_fn=dies_with_parent())
        self.procs.append(proc)
        return proc

    def worker(self) -> subprocess.Popen[str]:
        n = sum(1 for p in self.procs if "worker" in p.args)
        return self.spawn([RUNNER, "worker", "--catalog", str(self.catalog), "--task-queue", self.queue],
                          log=self.tmp / f"worker-{n}.log")

    def submit(self, manifest: str) -> subprocess.Popen[str]:
        (self.tmp / "batch.yaml").write_text(manifest)
        return self.spawn([RUNNER, "submit", "batch.yaml", "--catalog", str(self.catalog), "--task-queue",
                           self.queue, "--wait", "--no-worker"])

    def stop(self) -> None:
        for proc in reversed(self.procs):
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(30)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        self.stack.close()


def manifest(topics: int, delivery: str, chain: str = "[sim-opus]") -> str:
    return (f"name: delivered\njob: prompt\nprompt: 'Define {{topic}} in a line.'\nconcurrency: {topics}\n"
            f"cache: off\nmodels: {{default: {chain}}}\ndelivery: {delivery}\n"
            f"topics: [{', '.join(f'term {i:03d}' for i in range(topics))}]\n")


def test_calls_are_gathered_into_one_provider_batch_and_a_killed_worker_does_not_resubmit(
        tmp_path: Path, cli_env: dict[str, str], task_queue: str) -> None:
    rig = Rig(tmp_path, cli_env, task_queue, "--batch-delay", "8")
    try:
        worker = rig.worker()
        submit = rig.submit(manifest(40, "{gather: 4s, poll: 1s}"))
        deadline = time.monotonic() + 90
        while not creates(rig.log):
            assert time.monotonic() < deadline and submit.poll() is None, submit.communicate()[0]
            time.sleep(0.2)
        for _ in range(20):  # runner status shows it in flight once its submit has returned
            status = subprocess.run([RUNNER, "status", "batch.yaml", "--catalog", str(rig.catalog)],
                                    env=rig.env, cwd=tmp_path, capture_output=True, text=True, timeout=60)
            if "PROVIDER BATCH" in status.stdout:
                break
            time.sleep(0.3)
        worker.send_signal(signal.SIGKILL)  # while the batch is being polled (it takes 8 s)
        worker.wait()
        time.sleep(2)
        rig.worker()
        out, _ = submit.communicate(timeout=180)
    finally:
        rig.stop()
    assert submit.returncode == 0, out
    made = creates(rig.log)
    assert len(made) == 1 and made[0]["requests"] == 40, made  # one window, submitted once
    # runner status showed it in flight: id, model, requests, state, age
    shown = rf"{made[0]['batch']}\s+sim-opus\s+40\s+in_progress\s+\d+s"
    assert re.search(shown, status.stdout), status.stdout
    ops = [e["op"] for e in sim_log(rig.log) if e.get("api") == "batch"]
    assert ops.count("results") == 1 and ops.count("retrieve") >= 2
    chat = [e for e in sim_log(rig.log) if e.get("api") != "batch"]
    assert chat == [], chat[:3]  # no call went realtime
    found = results(tmp_path / "out" / "delivered")
    assert len(found) == 40 and all(r["status"] == "succeeded" for r in found)
    for r in found:  # each topic got its own answer
        text = Path(r["outputs"]["output"]).read_text()
        assert f"Define {r['topic']} in a line." in text, (r["topic"], text)
        step = r["steps"][0]
        assert step["detail"]["delivery"] == "batch" and step["detail"]["provider_batch"] == made[0]["batch"]
    report = json.loads((tmp_path / "out" / "delivered" / "report.json").read_text())
    model = report["models"]["sim-opus"]
    full = (model["input_tokens"] * 15 + model["output_tokens"] * 75) / 1e6
    assert model["cost_usd"] == pytest.approx(full / 2, rel=0.005)  # the batch discount (calls rounded)
    assert model["batch_calls"] == 40 and model["batch_saved_usd"] == pytest.approx(full / 2, rel=0.005)
    md = (tmp_path / "out" / "delivered" / "report.md").read_text()
    assert (f"- provider batches: 1 (40 calls, 0 of them resubmitted after expiring); their 40 answers "
            f"at batch prices: ${report['totals']['batch_saved_usd']:.4f} less than realtime") in md


def test_errored_calls_go_in_a_later_window_and_an_expired_window_is_submitted_once_more(
        tmp_path: Path, cli_env: dict[str, str], task_queue: str) -> None:
    """A third of each provider batch's requests come back errored: they are queued again and every
    topic succeeds. Then every request expires: the window is submitted once more, expires again,
    and each call falls back to the chain's next model (offline, realtime); the report lists the
    provider batches, the resubmission among them."""
    errors = tmp_path / "errors"
    errors.mkdir()
    rig = Rig(errors, cli_env, task_queue, "--batch-delay", "1", "--batch-error-rate", "0.34")
    try:
        rig.worker()
        flaky = rig.submit(manifest(20, "{gather: 2s, poll: 0.5s}"))
        out, _ = flaky.communicate(timeout=240)
    finally:
        rig.stop()
    assert flaky.returncode == 0, out
    made = creates(rig.log)
    assert 2 <= len(made) <= 5 and made[0]["requests"] == 20, made  # retries in later windows
    found = results(errors / "out" / "delivered")
    assert all(r["status"] == "succeeded" for r in found) and len(found) == 20
    retried = [r for r in found if r["steps"][0]["attempts"] > 1]
    assert retried and all(r["steps"][0]["model"] == "sim-opus" for r in found)
    assert sum(len(r["steps"]) for r in found) == 40  # answer + write: no rejected step
    report = json.loads((errors / "out" / "delivered" / "report.json").read_text())
    assert [w["provider_batch"] for w in report["provider_batches"]] == [m["batch"] for m in made]
    # every errored result is one more attempt of its topic's call
    assert sum(w["errored"] for w in report["provider_batches"]) == sum(
        r["steps"][0]["attempts"] - 1 for r in found)

    expiring = tmp_path / "expiring"
    expiring.mkdir()
    rig = Rig(expiring, cli_env, task_queue, "--batch-delay", "0.5", "--batch-expire")
    try:
        rig.worker()
        once = "cache: off\nsteps: {answer: {retry: {maximum_attempts: 1}}}\n"
        late = rig.submit(manifest(4, "{gather: 1s, poll: 0.5s}", chain="[sim-opus, offline]")
                          .replace("cache: off\n", once))
        out, _ = late.communicate(timeout=180)
    finally:
        rig.stop()
    assert late.returncode == 0, out
    made = creates(rig.log)
    assert [m["requests"] for m in made] == [4, 4], made  # submitted, expired, submitted once more
    found = results(expiring / "out" / "delivered")
    assert all(r["status"] == "succeeded" and r["steps"][0]["model"] == "offline" for r in found)
    tried = found[0]["steps"][0]["models_tried"]
    assert [m["model"] for m in tried] == ["sim-opus", "offline"] and "expired" in tried[0]["error"]
    report = json.loads((expiring / "out" / "delivered" / "report.json").read_text())
    windows = report["provider_batches"]
    assert [(w["requests"], w["resubmitted"], w["expired"]) for w in windows] == [(4, 0, 4), (4, 1, 0)]
    md = (expiring / "out" / "delivered" / "report.md").read_text()
    assert "provider batches: 2 (8 calls, 1 of them resubmitted after expiring)" in md


def test_the_manifest_delivery_is_checked_with_its_lines(tmp_path: Path) -> None:
    from runner.config.catalog import load_catalog
    from runner.config.manifest import load_manifest
    from runner.contract.errors import ManifestError

    path = tmp_path / "batch.yaml"
    path.write_text("name: d\njob: explainer\ndelivery:\n  steps: [script, render, narrate]\n"
                    "  gather: 100ms\n  mode: later\ntopics: [a]\n")
    with pytest.raises(ManifestError) as err:
        load_manifest(path, load_catalog(None))
    lines = [str(p) for p in err.value.problems]
    assert f"{path}:4: delivery.steps[1]: 'render' is not an LLM step of job 'explainer' (those are: " \
           "decompose, script)" in lines, lines
    assert any(line.startswith(f"{path}:4: delivery.steps[2]: 'narrate' is not") for line in lines), lines
    assert any(line.startswith(f"{path}:5: delivery.gather: ") and "between 500ms and 24h" in line
               for line in lines), lines
    assert any(line.startswith(f"{path}:6: delivery.mode: ") for line in lines), lines
    path.write_text("name: d\njob: explainer\ndelivery: batch\ntopics: [a]\n")
    plan = load_manifest(path, load_catalog(None))
    assert plan.delivery is not None and plan.delivery.steps == ["decompose", "script"]
    path.write_text("name: d\njob: explainer\ndelivery: realtime\ntopics: [a]\n")
    assert load_manifest(path, load_catalog(None)).delivery is None


def test_the_shared_system_prompt_is_read_from_the_prompt_cache_realtime_and_in_batches(
        tmp_path: Path, cli_env: dict[str, str], task_queue: str) -> None:
    """The system prompt goes to Anthropic with cache_control: the simulator, like Anthropic, caches
    a marked prompt of at least 1,024 tokens. Six topics one at a time: the first call writes it,
    the five others read it, priced at 1.25x and 0.1x the input price; then the same manifest
    through a provider batch reads it for every call. The report counts both."""
    system = "You define terms precisely. " * 200  # 5,600 characters: 1,400 tokens
    rig = Rig(tmp_path, cli_env, task_queue, "--batch-delay", "1")
    try:
        rig.worker()
        body = manifest(6, "realtime").replace("concurrency: 6", f"concurrency: 1\nsystem: '{system}'")
        realtime = rig.submit(body)
        out, _ = realtime.communicate(timeout=180)
        assert realtime.returncode == 0, out
        first = json.loads((tmp_path / "out" / "delivered" / "report.json").read_text())
        batched = rig.submit(body.replace("name: delivered", "name: batched")
                             .replace("delivery: realtime", "delivery: {gather: 1s, poll: 0.5s}\n"
                                      "budget: {usd: 1}")
                             .replace("concurrency: 1", "concurrency: 6"))
        out, _ = batched.communicate(timeout=180)
        assert batched.returncode == 0, out
        second = json.loads((tmp_path / "out" / "batched" / "report.json").read_text())
    finally:
        rig.stop()
    t = first["totals"]
    cached = t["cache_write_tokens"]  # the system prompt (with the job's format line) in tokens
    assert len(system) // 4 <= cached <= len(system) // 4 + 20, t
    assert t["cache_read_tokens"] == 5 * cached, t
    m = first["models"]["sim-opus"]
    plain = m["input_tokens"] - 6 * cached
    assert m["cost_usd"] == pytest.approx((plain * 15 + cached * 15 * 1.25 + 5 * cached * 15 * 0.1
                                           + m["output_tokens"] * 75) / 1e6, rel=0.005)
    md = (tmp_path / "out" / "delivered" / "report.md").read_text()
    assert f"prompt cache: {5 * cached} input tokens read from the providers' caches, {cached} written" in md
    t = second["totals"]
    assert (t["cache_write_tokens"], t["cache_read_tokens"], t["batch_calls"]) == (0, 6 * cached, 6), t
    # a budgeted batch's provider batch calls hold room when queued and say their cost when answered
    assert second["budget"]["calls"] == 6 and second["budget"]["spent_usd"] == pytest.approx(t["cost_usd"])


def test_an_openai_compatible_model_is_delivered_through_litellms_batch_api(
        tmp_path: Path, cli_env: dict[str, str], task_queue: str) -> None:
    """A litellm model of the openai/ provider goes through OpenAI's Batch API (a JSONL file
    uploaded, a batch of it created) by litellm's file and batch functions; errored requests come
    back in the error file and are queued again; answers are priced at the batch discount."""
    rig = Rig(tmp_path, cli_env, task_queue, "--batch-delay", "1", "--batch-error-rate", "0.25")
    with rig.catalog.open("a") as f:
        f.write(f"  sim-gpt: {{provider: litellm, model: openai/gpt-sim, api_key_env: RUNNER_SIM_KEY, "
                f"base_url: 'http://127.0.0.1:{rig.port}/v1', "
                "price: {input_per_mtok: 2, output_per_mtok: 8}}\n")
    try:
        rig.worker()
        done = rig.submit(manifest(20, "{gather: 2s, poll: 0.5s}", chain="[sim-gpt]"))
        out, _ = done.communicate(timeout=240)
    finally:
        rig.stop()
    assert done.returncode == 0, out
    ops = [(e["op"], e.get("status")) for e in sim_log(rig.log) if e.get("api") == "openai-batch"]
    uploads, made = ops.count(("upload", 200)), ops.count(("create", 200))
    assert uploads == made >= 2, ops  # the first window, then the errored calls in later ones
    assert not [e for e in sim_log(rig.log) if e.get("api") not in ("openai-batch", "batch")]
    found = results(tmp_path / "out" / "delivered")
    assert len(found) == 20 and all(r["status"] == "succeeded" for r in found)
    for r in found:
        assert f"Define {r['topic']} in a line." in Path(r["outputs"]["output"]).read_text()
    model = json.loads((tmp_path / "out" / "delivered" / "report.json").read_text())["models"]["sim-gpt"]
    full = (model["input_tokens"] * 2 + model["output_tokens"] * 8) / 1e6
    assert model["batch_calls"] == 20 and model["cost_usd"] == pytest.approx(full / 2, rel=0.01)


def test_runner_plan_estimates_both_deliveries() -> None:
    from runner.client.plan import Plan, render
    from runner.contract.budget import Budget

    plan = Plan(batch="b", job="prompt", cache=None, llm_calls=10, tokens=(1000, 2000), cost_usd=0.5,
                delivered_cost_usd=0.25, delivery=["answer"], budget=Budget(usd=0.3))
    lines = render(plan)
    assert lines[-2] == "delivery: answer through provider batches: ~$0.2500 (realtime: ~$0.5000)"
    assert lines[-1].endswith("the estimate (~$0.2500) fits it")  # the budget is held to what is delivered
    assert plan.as_json()["totals"]["delivered_cost_usd"] == 0.25


def test_cancelling_the_batch_cancels_its_provider_batches(
        tmp_path: Path, cli_env: dict[str, str], task_queue: str) -> None:
    rig = Rig(tmp_path, cli_env, task_queue, "--batch-delay", "60")
    try:
        rig.worker()
        submit = rig.submit(manifest(3, "{gather: 1s, poll: 1s}"))
        deadline = time.monotonic() + 60
        while not creates(rig.log):
            assert time.monotonic() < deadline and submit.poll() is None, submit.communicate()[0]
            time.sleep(0.2)
        time.sleep(1)  # (its submit returns)
        cancel = subprocess.run([RUNNER, "cancel", "batch.yaml", "--catalog", str(rig.catalog)],
                                env=rig.env, cwd=tmp_path, capture_output=True, text=True, timeout=120)
        assert cancel.returncode == 0, cancel.stdout + cancel.stderr
        out, _ = submit.communicate(timeout=120)
    finally:
        rig.stop()
    made = creates(rig.log)
    cancels = [e for e in sim_log(rig.log) if e.get("api") == "batch" and e.get("op") == "cancel"]
    assert len(made) == 1 and [c["batch"] for c in cancels] == [made[0]["batch"]], (made, cancels)
    assert "cancelled" in out
