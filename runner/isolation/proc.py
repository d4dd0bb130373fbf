"""Subprocesses of activities: their own process group, a timeout, killed on cancellation, and an
environment with nothing in it by accident (API keys included)."""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import signal
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from runner.contract.errors import StepError

_PR_SET_PDEATHSIG = 1
TICK_S = 1.0  # how often on_tick (a heartbeat) runs
ENV_KEEP = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "TEXMFHOME", "TEXMFVAR")
STDOUT_CAP = 16 * 1024 * 1024  # bytes of stdout kept (the head: it is a JSON answer or nothing)
STDERR_CAP = 256 * 1024  # bytes of stderr kept (the tail: where the error is)


def dies_with_parent(sig: int = signal.SIGKILL) -> Callable[[], None]:
    """A ``preexec_fn`` that has the kernel send ``sig`` to the child when the thread that starts it
    ends (``PR_SET_PDEATHSIG``; for a process's main thread that is when the process ends, also on
    ``kill -9``). Should the parent die between the fork and that call, the child sends ``sig`` to
    itself.

    A worker killed with -9 takes its subprocess with it, instead of leaving it to work on for
    nobody (and race the retry of the same step); a killed test or benchmark takes its servers.
    """
    parent = os.getpid()

    def arm() -> None:  # runs in the child between fork and exec
        ctypes.CDLL(None).prctl(_PR_SET_PDEATHSIG, sig)
        if os.getppid() != parent:
            os.kill(os.getpid(), sig)

    return arm


def clean_env() -> dict[str, str]:
    """The environment of step subprocesses: a short allowlist, no secrets."""
    env = {k: os.environ[k] for k in ENV_KEEP if k in os.environ}
    env.setdefault("LANG", "C.UTF-8")
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


@dataclass(frozen=True)
class Finished:
    """How a subprocess ended."""

    code: int  # negative: killed by that signal (by us, on timeout: SIGKILL)
    stdout: bytes
    stderr: bytes
    timed_out: bool = False


async def _drain(stream: asyncio.StreamReader | None, cap: int, keep_tail: bool) -> bytes:
    """Read ``stream`` to its end, keeping at most ``cap`` bytes (its head or its tail), so a
    process that prints without end cannot fill the worker's memory."""
    if stream is None:
        return b""
    kept = bytearray()
    while chunk := await stream.read(65536):
        if keep_tail:
            kept += chunk
            del kept[:-cap]
        elif len(kept) < cap:
            kept += chunk[: cap - len(kept)]
    return bytes(kept)


async def run(
    argv: list[str], *, cwd: Path, timeout: float, stdin: bytes | None = None,
    on_tick: Callable[[], None] | None = None, env: dict[str, str] | None = None,
    preexec: Callable[[], None] | None = None, stop: asyncio.Event | None = None,
    pass_fds: tuple[int, ...] = (),
) -> Finished:
    """Run ``argv`` to its end or until ``timeout`` seconds have passed; ``on_tick`` runs every
    second while it runs (a heartbeat).

    The process gets its own session; on timeout, on cancellation of the calling activity, or on
    any error, its whole process group is killed; if the worker process dies, the kernel kills it.
    ``env`` defaults to :func:`clean_env`; ``preexec`` runs in the child before exec (after the
    death signal is set). Setting ``stop`` kills it early, like a timeout (``timed_out`` False).
    ``pass_fds`` stay open in the child.
    """

    arm = dies_with_parent()

    def setup() -> None:
        arm()
        if preexec is not None:
            preexec()

    proc = await asyncio.create_subprocess_exec(
        *argv, cwd=cwd, env=clean_env() if env is None else env, start_new_session=True,
        preexec_fn=setup, pass_fds=pass_fds,
        stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )

    async def communicate() -> tuple[bytes, bytes]:
        if stdin is not None and proc.stdin is not None:
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                proc.stdin.write(stdin)
                await proc.stdin.drain()
            proc.stdin.close()
        out, err = await asyncio.gather(_drain(proc.stdout, STDOUT_CAP, False),
                                        _drain(proc.stderr, STDERR_CAP, True))
        await proc.wait()
        return out, err

    comm = asyncio.ensure_future(communicate())
    stopped = asyncio.ensure_future((stop or asyncio.Event()).wait())
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    try:
        while not stopped.done():
            left = deadline - loop.time()
            if left <= 0:
                break
            await asyncio.wait({comm, stopped}, timeout=min(TICK_S, left),
                               return_when=asyncio.FIRST_COMPLETED)
            if comm.done():
                out, err = comm.result()
                return Finished(proc.returncode or 0, out, err)
            if on_tick:
                on_tick()
        _kill(proc)
        try:
            out, err = await asyncio.wait_for(comm, 5)
        except TimeoutError:  # a grandchild outside the group still holds the pipes
            out, err = b"", b""
        return Finished(proc.returncode if proc.returncode is not None else -signal.SIGKILL,
                        out, err, timed_out=not stopped.done())
    finally:
        if proc.returncode is None:
            _kill(proc)
            with contextlib.suppress(Exception):
                await asyncio.wait_for(proc.wait(), 5)
        comm.cancel()
        stopped.cancel()


def _kill(proc: asyncio.subprocess.Process) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)


async def run_process(
    argv: list[str], *, label: str, cwd: Path, timeout: float, stdin: bytes | None = None,
    on_tick: Callable[[], None] | None = None,
) -> tuple[int, bytes, bytes]:
    """:func:`run` for trusted tools (ffmpeg, ffprobe): a timeout is an error.

    Returns:
        exit code (negative: killed by that signal), stdout, stderr.

    Raises:
        StepError: (retryable) it did not finish within ``timeout`` seconds.
    """
    done = await run(argv, cwd=cwd, timeout=timeout, stdin=stdin, on_tick=on_tick)
    if done.timed_out:
        raise StepError(f"{label}: timed out after {timeout:.0f} s")
    return done.code, done.stdout, done.stderr


def tail(data: bytes, lines: int = 25) -> str:
    """The last ``lines`` lines of a process's output, decoded."""
    text = data.decode("utf-8", "replace").strip().splitlines()
    return "\n".join(text[-lines:])
