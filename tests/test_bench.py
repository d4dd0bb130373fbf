"""Every benchmark runs once at a tiny size, so none can rot (their figures are not judged here: these
machines are noisy; `make bench` runs them at size). Each must finish, print its figures, and leave
no server or simulator behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import REPO

# each benchmark script, the arguments of its tiny run, and lines its output must hold
BENCHES = {
    "bench/bare.py": (["--topics", "4", "--concurrency", "2", "--events-per-run", "100"],
                      ["bare: 4 topics x 5 no-op steps, concurrency 2: wall "]),
    "bench/fanout.py": (["--topics", "6", "--concurrency", "3"],
                        ["validate: 6 topics in ", "  bare    wall ", "  runner  wall ", "  runner / bare: ",
                         "  6/6 succeeded", "6 lines in results.jsonl"]),
    "bench/embedded_server.py": (["--topics", "2", "--concurrency", "2"],
                        ["sqlite-wal vs sqlite-default:", "  memory ", "  sqlite-default ", "  sqlite-wal "]),
    "bench/ratelimit.py": (["--topics", "4", "--rpm", "600", "--latency", "0.05", "--variants", "rpm,tpm",
                   "--contenders", "runner,seed"],
                  ["variant rpm:", "variant tpm:", "  runner  succeeded    4/4",
                   "  seed    succeeded    4/4"]),
    "bench/sandbox.py": (["1", "1"], ["manim directly:", "through the sandbox:", "sandbox / direct:"]),
    "bench/store.py": (["--topics", "2", "--concurrency", "2", "--job", "prompt"],
                       ["store: 2 topics (prompt", "  local  wall ", "  s3     wall ", "  s3 / local: "]),
    "bench/gallery.py": (["--limit", "1"], ["gallery: 1 scenes at low quality", "  lint: 1/1 passed",
                                              "  render: 1/1 rendered", "  render time: median "]),
    "bench/delivery.py": (["--topics", "3", "--batch-delay", "1", "--gather", "1", "--latency", "0",
                           "--no-kill"],  # (tests/test_delivery.py kills a worker while it polls)
                          ["delivery: 3 topics", "3/3 succeeded, 3 answers matched to their topics",
                           "1 window(s), 1 provider batch(es) created, of 3 calls; 0 realtime requests",
                           "batch / realtime: 0.50x"]),
    "bench/narration.py": (["--topics", "1", "--concurrency", "1", "--topic", "Why is the sky blue?"],
                           ["narration: 1 topics (explainer", "  silent    wall ", "  narrated  wall ",
                            "  narrated / silent: "]),
    "bench/regenerate.py": (["--topics", "2", "--job", "prompt", "--concurrency", "2"],
                            ["prompt: 2 topics, concurrency 2", "  first  wall ",
                             "  plan   exit 3: 2 topics with work (term-number-3, term-number-2), 1 cached",
                             "  again  wall ", "  again / first: wall "]),
}


def test_every_benchmark_has_a_tiny_run_and_every_helper_is_used() -> None:
    """A benchmark nothing runs rots: every program in bench/ is in BENCHES, and every module that
    is not a program (a helper, e.g. runs.py) is imported by one that is."""
    files = {f"bench/{p.name}": p.read_text(encoding="utf-8") for p in (REPO / "bench").glob("*.py")}
    programs = {name for name, text in files.items() if 'if __name__ == "__main__":' in text}
    assert programs == set(BENCHES)
    for name in set(files) - programs:
        module = Path(name).stem
        users = [p for p in programs if f"from {module} import" in files[p] or f"import {module}" in files[p]]
        assert users, f"{name} is imported by no benchmark"


def servers_and_simulators(under: Path) -> set[str]:
    """The Temporal servers and provider simulators working in ``under`` (a benchmark's servers run
    in its temporary directory, its simulators in its working directory): not those of anything else
    running on the machine."""
    found = set()
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                cmd = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                cwd = Path(os.readlink(proc / "cwd"))
            except OSError:
                continue
            if ("server start-dev" in cmd or " simulate --port" in cmd) and cwd.is_relative_to(under):
                found.add(proc.name)
    return found


def run_bench(script: str, args: list[str], tmp_path: Path) -> subprocess.Popen[str]:
    """The benchmark ``script``, with its working and temporary directories in ``tmp_path``."""
    env = {k: v for k, v in os.environ.items() if k != "RUNNER_CACHE"}  # as a user runs it
    return subprocess.Popen([sys.executable, str(REPO / script), *args], cwd=tmp_path,
                            env={**env, "TMPDIR": str(tmp_path)}, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)


@pytest.mark.slow
@pytest.mark.parametrize("script", list(BENCHES))
def test_benchmark_runs_at_a_tiny_size(script: str, tmp_path: Path) -> None:
    args, expected = BENCHES[script]
    proc = run_bench(script, args, tmp_path)
    try:
        out, _ = proc.communicate(timeout=300)
    finally:
        proc.kill()
    assert proc.returncode == 0, out
    for line in expected:
        assert line in out, out
    assert servers_and_simulators(tmp_path) == set()


@pytest.mark.slow
def test_a_killed_benchmark_leaves_no_server(tmp_path: Path) -> None:
    """Killed with -9 mid-run, the benchmark's Temporal server goes with it (it dies with it)."""
    proc = run_bench("bench/embedded_server.py", ["--topics", "400"], tmp_path)
    try:
        deadline = time.monotonic() + 60
        while not servers_and_simulators(tmp_path) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert servers_and_simulators(tmp_path), "the benchmark never started a server"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    deadline = time.monotonic() + 15
    while servers_and_simulators(tmp_path) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert servers_and_simulators(tmp_path) == set()
