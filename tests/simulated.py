"""The provider simulator as tests run it: `runner simulate` in a process of its own on a free port
(dying with the test run, stopped at the end), the simulated catalog pointed at it, its request log,
and the environment with a key for it."""

from __future__ import annotations

import contextlib
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from runner.client.server import _free_port
from runner.isolation.proc import dies_with_parent
from tests.conftest import REPO

RUNNER = str(Path(sys.executable).parent / "runner")


@dataclass
class Simulated:
    port: int
    catalog: Path  # configs/models.simulated.yaml, pointed at this simulator
    log: Path  # one JSON line per request the simulator saw
    env: dict[str, str]  # the caller's, with RUNNER_SIM_KEY set


@contextlib.contextmanager
def simulated(tmp_path: Path, env: dict[str, str], *args: str) -> Iterator[Simulated]:
    """`runner simulate ARGS` for the block (``args``: its options, e.g. --rpm, --batch-delay)."""
    port = _free_port()
    sim = Simulated(port=port, catalog=tmp_path / "models.yaml", log=tmp_path / "requests.jsonl",
                    env={**env, "RUNNER_SIM_KEY": "sk-simulated"})
    sim.catalog.write_text((REPO / "configs" / "models.simulated.yaml").read_text()
                           .replace("127.0.0.1:8765", f"127.0.0.1:{port}"))
    proc = subprocess.Popen([RUNNER, "simulate", "--port", str(port), "--log", str(sim.log), *args],
                            env=sim.env, stdout=subprocess.PIPE, text=True, preexec_fn=dies_with_parent())
    try:
        assert proc.stdout is not None and "provider simulator on" in proc.stdout.readline()
        yield sim
    finally:
        proc.terminate()
        proc.wait(10)
