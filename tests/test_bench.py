"""Every benchmark runs once at a tiny size, so none can rot (their figures are not judged here: these
machines are noisy; `make bench` runs them at size). Each must finish, print its figures, and leave
no server or simulator behind."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

BENCHES = {
    "embedded_server": (["--topics", "2", "--concurrency", "2"],
                        ["sqlite-wal vs sqlite-default:", "  memory ", "  sqlite-default ", "  sqlite-wal "]),
    "ratelimit": (["--topics", "4", "--rpm", "600", "--latency", "0.05", "--variants", "rpm,tpm",
                   "--contenders", "runner,seed"],
                  ["variant rpm:", "variant tpm:", "  runner  succeeded    4/4",
                   "  seed    succeeded    4/4"]),
    "sandbox": (["1", "1"], ["manim directly:", "through the sandbox:", "sandbox / direct:"]),
}


def servers_and_simulators() -> set[str]:
    found = set()
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                cmd = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if "server start-dev" in cmd or " simulate --port" in cmd:
                found.add(proc.name)
    return found


@pytest.mark.slow
@pytest.mark.parametrize("name", list(BENCHES))
def test_benchmark_runs_at_a_tiny_size(name: str, tmp_path: Path) -> None:
    args, expected = BENCHES[name]
    before = servers_and_simulators()
    res = subprocess.run([sys.executable, str(REPO / "bench" / f"{name}.py"), *args], cwd=tmp_path,
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stdout + res.stderr
    for line in expected:
        assert line in res.stdout, res.stdout
    assert servers_and_simulators() <= before


def test_a_killed_benchmark_leaves_no_server(tmp_path: Path) -> None:
    """Killed with -9 mid-run, the benchmark's Temporal servers go with it (they die with it)."""
    import signal
    import time

    before = servers_and_simulators()
    proc = subprocess.Popen([sys.executable, str(REPO / "bench" / "embedded_server.py"), "--topics", "400"],
                            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        while not (servers_and_simulators() - before) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert servers_and_simulators() - before, "the benchmark never started a server"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    deadline = time.monotonic() + 15
    while servers_and_simulators() - before and time.monotonic() < deadline:
        time.sleep(0.2)
    assert servers_and_simulators() <= before
