"""What the benchmarks that go through the command line share: an embedded Temporal server and a
`runner worker` of their own (:func:`served`), and one `runner submit --wait --no-worker` of a
manifest, timed, with its report (read from wherever the batch wrote it). A helper, not a benchmark:
the benchmarks that import it run it (tests/test_bench.py)."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from runner.client import server
from runner.client.server import _free_port
from runner.isolation.proc import dies_with_parent
from runner.store.artifacts import store_for

RUNNER = str(Path(sys.executable).with_name("runner"))


@contextlib.contextmanager
def served(work: Path, extra_env: dict[str, str] | None = None,
           worker: bool = True) -> Iterator[dict[str, str]]:
    """An embedded Temporal server in ``work``/home and a `runner worker` (in ``work``, with the
    built-in catalog; none if not ``worker``) beside it, both dying with this process and stopped at
    the end; yields the environment that points the command line at them (no TEMPORAL_* or RUNNER_*
    of the caller's, ``extra_env`` added)."""
    home = work / "home"
    server.start(home, port=_free_port(), owned=True)  # dies with this process
    proc: subprocess.Popen[bytes] | None = None
    try:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("TEMPORAL_", "RUNNER_"))}
        env.update(extra_env or {}, RUNNER_HOME=str(home), TEMPORAL_CONFIG_FILE=str(home / "none.toml"))
        if worker:
            proc = start_worker(work, env)
        yield env
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(30)
        server.stop(home)


def start_worker(work: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    """A `runner worker` in ``work`` with ``env``, dying with this process (the caller stops it)."""
    return subprocess.Popen([RUNNER, "worker"], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, cwd=work, preexec_fn=dies_with_parent())


def submit(path: Path, env: dict[str, str]) -> tuple[float, dict[str, Any]]:
    """Submit the manifest at ``path`` and wait: wall seconds and its report.json."""
    start = time.perf_counter()
    done = subprocess.run([RUNNER, "submit", str(path), "--wait", "--no-worker"], env=env,
                          capture_output=True, text=True, timeout=7200, check=False)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"submit failed (exit {done.returncode}):\n{done.stdout}\n{done.stderr}")
    report_json = done.stdout.strip().splitlines()[-1]
    report: dict[str, Any] = json.loads(store_for(report_json).read_bytes(report_json))
    return wall, report
