"""Subprocesses of activities: their own process group, a timeout, killed on cancellation, and an
environment with nothing in it by accident (API keys included)."""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import signal
from collections.abc import Callable
from pathlib import Path

from runner.errors import StepError

TICK_S = 1.0  # how often on_tick (a heartbeat) runs
ENV_KEEP = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "TEXMFHOME", "TEXMFVAR")


def _die_with_parent() -> None:  # runs in the child between fork and exec
    # PR_SET_PDEATHSIG: a worker killed with -9 takes its manim or ffmpeg with it, instead of leaving
    # it to render on for nobody (and race the retry's render of the same scene).
    ctypes.CDLL(None).prctl(1, signal.SIGKILL)


def clean_env() -> dict[str, str]:
    """The environment of step subprocesses: a short allowlist, no secrets."""
    env = {k: os.environ[k] for k in ENV_KEEP if k in os.environ}
    env.setdefault("LANG", "C.UTF-8")
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


async def run_process(
    argv: list[str], *, label: str, cwd: Path, timeout: float, stdin: bytes | None = None,
    on_tick: Callable[[], None] | None = None,
) -> tuple[int, bytes, bytes]:
    """Run ``argv`` and collect its output; ``on_tick`` runs every few seconds while it runs.

    The process gets its own session; on timeout, on cancellation of the calling activity, or on
    any error, its whole process group is killed; if the worker process dies, the kernel kills it.

    Returns:
        exit code (negative: killed by that signal), stdout, stderr.

    Raises:
        StepError: (retryable) it did not finish within ``timeout`` seconds.
    """
    proc = await asyncio.create_subprocess_exec(
        *argv, cwd=cwd, env=clean_env(), start_new_session=True, preexec_fn=_die_with_parent,
        stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    comm = asyncio.ensure_future(proc.communicate(stdin))
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    try:
        while True:
            left = deadline - loop.time()
            if left <= 0:
                raise StepError(f"{label}: timed out after {timeout:.0f} s")
            done, _ = await asyncio.wait({comm}, timeout=min(TICK_S, left))
            if done:
                out, err = comm.result()
                return proc.returncode or 0, out, err
            if on_tick:
                on_tick()
    finally:
        if proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            with contextlib.suppress(Exception):
                await asyncio.wait_for(proc.wait(), 5)
        comm.cancel()


def tail(data: bytes, lines: int = 25) -> str:
    """The last ``lines`` lines of a process's output, decoded."""
    text = data.decode("utf-8", "replace").strip().splitlines()
    return "\n".join(text[-lines:])
