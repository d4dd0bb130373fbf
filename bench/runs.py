"""What the benchmarks that go through the command line share: one `runner submit --wait
--no-worker` of a manifest, timed, and its report (read from wherever the batch wrote it)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from runner.store.artifacts import store_for

RUNNER = str(Path(sys.executable).with_name("runner"))


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
