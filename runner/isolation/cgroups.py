"""A control group per sandboxed run: one bound on the memory and the processes of everything the
run starts, together (rlimits only bound each process on its own).

Two layouts are handled: the unified hierarchy (cgroup v2, ``/sys/fs/cgroup/cgroup.controllers``
lists ``memory`` and ``pids``), where run groups live under ``/sys/fs/cgroup/runner-sandbox``; and
the legacy one (cgroup v1, ``/sys/fs/cgroup/memory`` and ``/sys/fs/cgroup/pids``), where a run
group is made in each, below the worker's own group. Making groups needs root (or a hierarchy the
worker may write to); where it cannot be done, :func:`create` raises :class:`OSError` with the
reason and the sandbox runs with the per-process limits only (and says so).

The sandbox's bootstrap joins the group (``0`` written to each ``cgroup.procs``) before it starts
anything, so every process of the run is in it; the worker kills what is left in it when the run
ends, reads whether the kernel's OOM killer acted in it, and removes it.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path("/sys/fs/cgroup")
V2_PARENT = "runner-sandbox"  # cgroup v2: run groups live below this group at the root
PREFIX = "runner-"  # run groups are named runner-<worker pid>-<random>


@dataclass(frozen=True)
class RunGroup:
    """The control group(s) of one run: one directory (v2) or one per controller (v1)."""

    version: int
    dirs: tuple[Path, ...]

    def describe(self) -> str:
        return f"cgroup v{self.version}"

    @property
    def procs_files(self) -> list[str]:
        """The files the bootstrap writes ``0`` to, to join the group."""
        return [str(d / "cgroup.procs") for d in self.dirs]

    def pids(self) -> list[int]:
        """Processes in the group (host pids)."""
        found: set[int] = set()
        for d in self.dirs:
            with contextlib.suppress(OSError):
                found.update(int(x) for x in (d / "cgroup.procs").read_text().split())
        return sorted(found)

    def oom_kills(self) -> int:
        """How many processes of the group the kernel's OOM killer has killed (the memory bound)."""
        name = "memory.events" if self.version == 2 else "memory.oom_control"
        for d in self.dirs:
            with contextlib.suppress(OSError):
                for line in (d / name).read_text().splitlines():
                    key, _, value = line.partition(" ")
                    if key == "oom_kill":
                        return int(value)
        return 0

    def kill(self) -> None:
        """SIGKILL every process in the group (once; see :meth:`close`)."""
        if self.version == 2:
            with contextlib.suppress(OSError):
                (self.dirs[0] / "cgroup.kill").write_text("1")
        for pid in self.pids():
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)

    def close(self, timeout: float = 10.0) -> bool:
        """Kill what is left in the group, wait until it is empty and remove it. Returns False if
        it could not be removed within ``timeout`` seconds (it is left; the next run's sweep
        removes it once empty)."""
        deadline = time.monotonic() + timeout
        while True:
            self.kill()
            for d in self.dirs:
                with contextlib.suppress(OSError):  # gone already, or not empty yet
                    d.rmdir()
            if not any(d.exists() for d in self.dirs):
                return True
            if time.monotonic() > deadline:
                return False
            time.sleep(0.02)


def _own_path(controller: str) -> str:
    """This process's group in the v1 hierarchy of ``controller`` ("" for v2), from /proc/self/cgroup."""
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        if controller in controllers.split(","):
            return path.lstrip("/")
    raise OSError(f"this process is in no {controller} cgroup")


def _parents() -> tuple[int, list[Path]]:
    """Where run groups are made: (cgroup version, parent directories)."""
    unified = ROOT / "cgroup.controllers"
    if unified.exists():
        available = unified.read_text().split()
        if not {"memory", "pids"} <= set(available):
            raise OSError(f"cgroup v2 lacks the memory or pids controller ({' '.join(available)})")
        parent = ROOT / V2_PARENT
        enable = "+memory +pids"
        (ROOT / "cgroup.subtree_control").write_text(enable)
        parent.mkdir(exist_ok=True)
        (parent / "cgroup.subtree_control").write_text(enable)
        return 2, [parent]
    parents = []
    for controller in ("memory", "pids"):
        mount = ROOT / controller
        if not (mount / "cgroup.procs").exists():
            raise OSError(f"no cgroup v2 and no cgroup v1 {controller} hierarchy at {mount}")
        parents.append(mount / _own_path(controller))
    return 1, parents


def _sweep(parent: Path) -> None:
    """Remove empty run groups left by workers that are gone (killed before they could)."""
    with contextlib.suppress(OSError):
        for entry in parent.iterdir():
            owner = entry.name[len(PREFIX):].split("-", 1)[0]
            if entry.name.startswith(PREFIX) and owner.isdigit() and not Path(f"/proc/{owner}").exists():
                with contextlib.suppress(OSError):
                    entry.rmdir()  # fails while a process is still in it: left for a later sweep


def create(memory_bytes: int, processes: int) -> RunGroup:
    """Make a run group bounded to ``memory_bytes`` (all processes together, no swap) and
    ``processes`` (processes and threads).

    Raises:
        OSError: groups cannot be made here (no hierarchy, not permitted, a controller missing).
    """
    version, parents = _parents()
    name = f"{PREFIX}{os.getpid()}-{secrets.token_hex(4)}"
    made: list[Path] = []
    try:
        for parent in parents:
            _sweep(parent)
            (parent / name).mkdir()
            made.append(parent / name)
        group = RunGroup(version, tuple(made))
        if version == 2:
            d = made[0]
            (d / "memory.max").write_text(str(memory_bytes))
            if (d / "memory.swap.max").exists():
                (d / "memory.swap.max").write_text("0")
            (d / "pids.max").write_text(str(processes))
        else:
            memory, pids = made
            (memory / "memory.limit_in_bytes").write_text(str(memory_bytes))
            if (memory / "memory.memsw.limit_in_bytes").exists():  # memory + swap: no swap either
                with contextlib.suppress(OSError):
                    (memory / "memory.memsw.limit_in_bytes").write_text(str(memory_bytes))
            (pids / "pids.max").write_text(str(processes))
        return group
    except OSError:
        for d in made:
            with contextlib.suppress(OSError):
                d.rmdir()
        raise
