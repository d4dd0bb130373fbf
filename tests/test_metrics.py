"""`runner worker --metrics-port`: a Prometheus endpoint with Temporal's SDK metrics and runner's
own, scraped while a batch runs against the provider simulator (the real anthropic client)."""

from __future__ import annotations

import re
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from runner.client.server import _free_port
from runner.isolation.proc import dies_with_parent
from tests.conftest import REPO

pytestmark = pytest.mark.slow
RUNNER = str(Path(sys.executable).parent / "runner")
TOPICS = 12


def scrape(port: int) -> dict[str, float]:
    """Every sample of the endpoint: 'name{labels}' -> value."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as answer:
        text = answer.read().decode()
    found = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            found[name] = float(value)
    return found


def sample(samples: dict[str, float], name: str, **labels: str) -> float:
    """The sum of ``name``'s samples whose labels include ``labels``."""
    total = 0.0
    for key, value in samples.items():
        if key.split("{")[0] == name and all(f'{k}="{v}"' in key for k, v in labels.items()):
            total += value
    return total


def test_the_worker_serves_sdk_and_per_model_metrics_that_move_during_a_batch(
        tmp_path: Path, cli_env: dict[str, str], task_queue: str) -> None:
    sim_port, metrics_port = _free_port(), _free_port()
    catalog = tmp_path / "models.yaml"
    catalog.write_text((REPO / "configs" / "models.simulated.yaml").read_text()
                       .replace("127.0.0.1:8765", f"127.0.0.1:{sim_port}"))
    manifest = tmp_path / "batch.yaml"
    manifest.write_text("name: metered\njob: prompt\nprompt: 'Define {topic}'\nconcurrency: 3\n"
                        "models: {default: [sim-opus]}\n"
                        f"topics: [{', '.join(f'term {i}' for i in range(TOPICS))}]\n")
    env = {**cli_env, "RUNNER_SIM_KEY": "sk-metrics"}
    sim = subprocess.Popen([RUNNER, "simulate", "--port", str(sim_port), "--latency", "0.3"], env=env,
                           stdout=subprocess.PIPE, text=True, preexec_fn=dies_with_parent())
    worker = subprocess.Popen([RUNNER, "worker", "--catalog", str(catalog), "--task-queue", task_queue,
                               "--metrics-port", str(metrics_port), "--metrics-host", "127.0.0.1"],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              cwd=tmp_path, preexec_fn=dies_with_parent())
    try:
        assert sim.stdout is not None and "provider simulator on" in sim.stdout.readline()
        assert worker.stdout is not None
        lines = [worker.stdout.readline() for _ in range(2)]
        assert f"metrics: http://127.0.0.1:{metrics_port}/metrics\n" in lines, lines
        submit = subprocess.Popen([RUNNER, "submit", str(manifest), "--catalog", str(catalog),
                                   "--task-queue", task_queue, "--wait", "--no-worker"], env=env,
                                  cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                  text=True)
        seen: list[float] = []
        deadline = time.monotonic() + 120
        while submit.poll() is None and time.monotonic() < deadline:
            seen.append(sample(scrape(metrics_port), "runner_llm_calls_total", model="sim-opus",
                               outcome="answered"))
            time.sleep(0.2)
        out, _ = submit.communicate(timeout=60)
        assert submit.returncode == 0, out
        final = scrape(metrics_port)
    finally:
        worker.terminate()
        worker.wait(30)
        sim.terminate()
        sim.wait(10)
    # the call counter moved while the batch ran (not only at its end), up to one call per topic
    during = sorted(set(seen))
    assert len([v for v in during if 0 < v < TOPICS]) >= 2, during
    assert sample(final, "runner_llm_calls_total", model="sim-opus", api="chat", outcome="answered") == TOPICS
    tokens_in = sample(final, "runner_llm_tokens_total", model="sim-opus", direction="in")
    tokens_out = sample(final, "runner_llm_tokens_total", model="sim-opus", direction="out")
    assert tokens_in > 0 and tokens_out > 0
    assert sample(final, "runner_llm_cost_microdollars_total", model="sim-opus") == pytest.approx(
        (tokens_in * 15 + tokens_out * 75), rel=0.01)  # $15 / $75 per million tokens
    steps = sample(final, "runner_step_seconds_count", step="runner.llm.complete", outcome="succeeded")
    assert steps == TOPICS
    assert any(re.match(r"temporal_\w+", name) for name in final)  # the SDK's own metrics beside them
    assert 'runner_step_seconds_bucket{' in "".join(final) and 'le="2.5"' in "".join(final)
