"""Run untrusted code (code a model wrote, text a parser would evaluate) in a contained process.

The static checks of a job (an AST lint) are a fast screen; this process boundary is the security
boundary. Layers, from the outside in:

* **Process.** Its own session and process group, killed (SIGKILL) on timeout, on cancellation of
  the calling activity, and when the worker dies; output kept within a cap.
* **Namespaces** (``unshare``): a new network namespace with no interface up (no network at all), a
  new PID namespace (the code sees only its own processes, and all of them die with it), a new mount
  namespace, IPC and UTS namespaces.
* **File system.** A fresh read-only root holding only what the code needs, read-only: ``/usr``,
  the parts of ``/etc`` the linker, fontconfig and TeX read, TeX's ``/var/lib/texmf``, the Python
  installation and its virtualenv (and TeX reads no absolute path outside the scratch directory);
  ``/dev/null``, ``/dev/zero``, ``/dev/urandom``; a fresh ``/proc``. The scratch directory, mounted
  at ``/sandbox`` (and ``/tmp``), is the only writable place. Nothing else (home directories, the
  project, its output directories, other topics) is there.
* **User.** When the worker runs as root, the code runs as a fresh unprivileged uid with no groups and
  ``no_new_privs``, so the process limit below holds (the kernel exempts root from it).
* **Limits** (rlimits): address space, CPU seconds, file size, open files, no core dumps, and
  processes (only with a fresh uid: the limit counts all of a uid's processes).
* **Control group** (:mod:`runner.isolation.cgroups`, where the worker may make one): memory (no swap) and
  processes of the whole run together, so many processes cannot add up what one may not take.
* **Scratch watch.** The worker measures the scratch directory every second and stops the run when
  it holds more than its byte or file budget (the file size limit bounds one file, not the sum).
* **Environment.** A short allowlist (no API keys), ``HOME`` and ``TMPDIR`` in the scratch directory.

When the kernel does not allow namespaces (some containers), the code runs with the limits, the clean
environment and the process group only; :func:`isolation` says so, every run logs a warning, and the
run's :class:`Isolation` is in the step output. As a non-root user, the namespaces come from a user
namespace and the uid stays the worker's.

The mount work happens in a small bootstrap (:mod:`runner.isolation.jail`) that ``unshare`` starts
inside the new namespaces; it execs the command when the jail is ready.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import secrets
import shutil
import signal
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from tempfile import TemporaryDirectory

from runner.isolation import cgroups
from runner.isolation.cgroups import RunGroup
from runner.isolation.jail import INSIDE as INSIDE  # callers name paths as the code sees them
from runner.isolation.jail import JAIL_DIR, JailSpec, set_limits
from runner.isolation.proc import Finished, run

log = logging.getLogger("runner.isolation.sandbox")

UID_BASE = 2_000_000  # sandbox uids are random above this: no file on the machine belongs to one
WEAK_OPT_IN = "RUNNER_SANDBOX_WEAK"  # "1": as root without namespaces, run anyway (weak)

# What the jail's root holds besides the Python installation (read-only, when present).
SYSTEM_DIRS = ("/usr", "/var/lib/texmf", "/var/cache/fontconfig")
SYSTEM_LINKS = ("/bin", "/lib", "/lib64", "/sbin", "/lib32", "/libx32")
# Of /etc, only what the dynamic linker, fontconfig and TeX read (seen with strace on a render);
# nothing else there (users, hosts, service configuration) is the code's business.
ETC_KEEP = ("/etc/fonts", "/etc/texmf", "/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d",
            "/etc/localtime", "/etc/papersize", "/etc/alternatives", "/etc/mime.types")

GiB = 1024**3
MiB = 1024**2


@dataclass(frozen=True)
class Limits:
    """Resource limits of one sandboxed run: per process (rlimits), and for the whole run."""

    memory_bytes: int = 3 * GiB  # address space: -qh renders need about 2 GiB (PyAV fails under 1)
    cpu_s: int = 1800
    file_bytes: int = 1 * GiB
    processes: int = 256  # processes and threads of the run (the uid's, and the cgroup's)
    open_files: int = 1024
    run_memory_bytes: int = 4 * GiB  # all processes of the run together (the cgroup)
    scratch_bytes: int = 4 * GiB  # what the scratch directory may hold (the watch)
    scratch_files: int = 100_000


@dataclass(frozen=True)
class Isolation:
    """What containment this machine gives sandboxed code."""

    namespaces: bool  # network, PID, mount (read-only root), IPC, UTS
    separate_uid: bool  # runs as a fresh unprivileged uid (the process limit holds)
    reason: str = ""  # why a layer is missing
    cgroup: str = ""  # "cgroup v1"/"cgroup v2": each run gets a control group; "": none
    cgroup_reason: str = ""  # why not

    def describe(self) -> str:
        """One line for logs and reports."""
        if not self.namespaces:
            return ("weak: no network or file system isolation (namespaces unavailable: "
                    f"{self.reason}); limits, clean environment and process group only")
        uid = "fresh uid" if self.separate_uid else f"worker's uid ({self.reason})"
        group = (f"memory and processes bounded per run ({self.cgroup})" if self.cgroup else
                 f"memory bounded per process only (no cgroup: {self.cgroup_reason})")
        return (f"full: no network, read-only root with only the scratch dir writable, own PIDs, "
                f"{uid}, {group}")


@dataclass(frozen=True)
class SandboxRun:
    """How a sandboxed command ended."""

    code: int  # negative: killed by that signal
    stdout: bytes
    stderr: bytes
    timed_out: bool
    isolation: Isolation
    exceeded: str = ""  # a limit of the whole run it went over (memory, scratch): what and how
    started: bool = True  # the command was started: False is a failure of the sandbox itself


_isolation: Isolation | None = None


def _python_dirs() -> list[str]:
    """The directories the interpreter needs: its installation and the virtualenv."""
    dirs = {os.path.realpath(p) for p in (sys.base_prefix, sys.prefix, sys.exec_prefix)}
    dirs.add(sys.prefix)
    return sorted(d for d in dirs if not any(d.startswith(s + "/") or d == s for s in SYSTEM_DIRS))


def _unshare_argv(user_namespace: bool) -> list[str]:
    argv = ["unshare", "--net", "--pid", "--fork", "--kill-child=SIGKILL", "--mount",
            "--propagation", "private", "--ipc", "--uts"]
    if user_namespace:
        argv[1:1] = ["--user", "--map-root-user"]
    return argv


def _jail_spec(scratch: Path, argv: list[str], env: dict[str, str], limits: Limits,
               separate_uid: bool, group: RunGroup | None = None) -> JailSpec:
    links = {p: os.readlink(p) for p in (*SYSTEM_LINKS, *ETC_KEEP) if os.path.islink(p)}
    binds = [d for d in (*SYSTEM_DIRS, *SYSTEM_LINKS, *ETC_KEEP)
             if d not in links and os.path.exists(d)] + _python_dirs()
    return JailSpec(scratch=str(scratch), argv=argv, env=env, limits=asdict(limits),
                    uid=UID_BASE + secrets.randbelow(1_000_000_000) if separate_uid else None,
                    binds=binds, links=links, cgroups=group.procs_files if group else [])


def inside_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of sandboxed code: no secrets, home and temp in the scratch directory."""
    env = {
        "PATH": f"{os.path.dirname(sys.executable)}:/usr/local/bin:/usr/bin:/bin",
        "HOME": f"{INSIDE}/home", "TMPDIR": f"{INSIDE}/tmp", "LANG": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1", "PYTHONNOUSERSITE": "1", "NO_COLOR": "1", "TERM": "dumb",
        "COLUMNS": "120",
        # TeX reads no file named by an absolute path outside the scratch dir (\input{/etc/...})
        "openin_any": "p", "openout_any": "p", "TEXMFOUTPUT": INSIDE,
    }
    env.update(extra or {})
    return env


async def isolation() -> Isolation:
    """Probe (once per process, until it succeeds) what containment this machine allows, by
    running a check in it. As root, only a fresh uid will do: root inside the jail could leave it
    (a second chroot). A control group is used when one can be made and joined."""
    global _isolation
    if _isolation is not None:
        return _isolation
    separate = os.geteuid() == 0
    limits = Limits()
    try:
        group: RunGroup | None = cgroups.create(limits.run_memory_bytes, limits.processes)
        no_group = ""
    except OSError as exc:
        group, no_group = None, str(exc)
    try:
        done = await _probe(separate, group)
        if group is not None and not _probed_ok(done):  # try again without: was it the cgroup?
            no_group = f"cannot join one: {_last_line(done)}"
            done = await _probe(separate, None)
            group = None if _probed_ok(done) else group
    finally:
        if group is not None:
            await asyncio.to_thread(group.close)
    if _probed_ok(done):
        _isolation = Isolation(namespaces=True, separate_uid=separate,
                               reason="" if separate else "not root",
                               cgroup=group.describe() if group else "", cgroup_reason=no_group[:200])
        return _isolation
    # not cached: a probe that failed by chance (load, a timeout) is tried again next time
    weak = Isolation(namespaces=False, separate_uid=False, reason=_last_line(done)[:200])
    log.warning("sandbox is WEAK on this machine: %s", weak.describe())
    return weak


async def _probe(separate_uid: bool, group: RunGroup | None) -> Finished:
    probe = ("import socket\ntry:\n socket.create_connection(('1.1.1.1', 53), 1); print('net')\n"
             "except OSError: print('nonet')\n")
    with TemporaryDirectory(prefix="runner-sandbox-probe-") as tmp:
        spec = _jail_spec(_prepare(Path(tmp)), [sys.executable, "-c", probe], inside_env(), Limits(),
                          separate_uid, group)
        done, _ = await _run_jail(spec, timeout=30)
        return done


def _probed_ok(done: Finished) -> bool:
    return done.code == 0 and done.stdout.split()[:1] == [b"nonet"]


def _last_line(done: Finished) -> str:
    return (done.stderr.decode(errors="replace").strip().splitlines() or [f"exit {done.code}"])[-1]


async def _run_jail(spec: JailSpec, *, timeout: float, stdin: bytes | None = None,
                    on_tick: Callable[[], None] | None = None,
                    stop: asyncio.Event | None = None) -> tuple[Finished, bool]:
    """Start the bootstrap in new namespaces with ``spec``; when it has ended, make sure nothing
    of it runs on.

    Returns:
        How it ended, and whether the command was started. A setup failure is told through a pipe
        that the exec closes, so nothing the command prints or exits with can look like one; its
        message then replaces stderr.
    """
    failure, failure_w = os.pipe()
    os.set_blocking(failure, False)
    try:
        spec = replace(spec, setup_fd=failure_w)
        done = await run([*_unshare_argv(os.geteuid() != 0), sys.executable, "-I", "-m",
                          "runner.isolation.jail", json.dumps(asdict(spec))], pass_fds=(failure_w,),
                         cwd=Path("/"), timeout=timeout, stdin=stdin, on_tick=on_tick, stop=stop)
        try:
            why = os.read(failure, 4096)
        except BlockingIOError:  # nothing written (this process still holds the write end)
            why = b""
    finally:
        os.close(failure)
        os.close(failure_w)
        if spec.uid is not None:
            await _wait_gone(spec.uid)
    if why:
        return Finished(done.code, done.stdout, why, done.timed_out), False
    return done, True


def _prepare(scratch: Path) -> Path:
    for sub in ("home", "tmp", JAIL_DIR):
        (scratch / sub).mkdir(exist_ok=True)
    return scratch


async def run_sandboxed(
    argv: list[str], *, scratch: Path, timeout: float, limits: Limits | None = None,
    stdin: bytes | None = None, on_tick: Callable[[], None] | None = None,
    env: dict[str, str] | None = None,
) -> SandboxRun:
    """Run ``argv`` in the sandbox, with ``scratch`` as its only writable directory.

    Paths in ``argv`` are seen from inside: the scratch directory is :data:`INSIDE`, and the
    Python interpreter (``sys.executable``) is at its usual path. The caller puts the files the
    command needs into ``scratch`` first, and finds what it wrote there afterwards.

    Returns:
        How it ended, and the isolation it ran with (also logged when weak).
    """
    limits = limits or Limits()
    iso = await isolation()
    scratch = _prepare(scratch.resolve())
    env = env or inside_env()

    def refuse(message: str) -> SandboxRun:  # an infrastructure failure: nothing ran
        log.error("%s", message)
        return SandboxRun(code=125, stdout=b"", stderr=message.encode(), timed_out=False, isolation=iso,
                          started=False)

    if not iso.namespaces and os.geteuid() == 0 and os.environ.get(WEAK_OPT_IN) != "1":
        # root without namespaces is no containment at all
        return refuse(f"runner sandbox: refusing to run model-written code as root without "
                      f"namespaces ({iso.reason}); set {WEAK_OPT_IN}=1 to accept a weak sandbox")
    group = None
    if iso.cgroup:
        try:
            group = cgroups.create(limits.run_memory_bytes, limits.processes)
        except OSError as exc:
            return refuse(f"runner sandbox: cannot make the run's control group: {exc}")
    stop = asyncio.Event()
    over: list[str] = []
    started = True
    watch = asyncio.ensure_future(_watch_scratch(scratch, limits, stop, over))
    try:
        if not iso.namespaces:
            log.warning("running %s without namespaces: %s", Path(argv[0]).name, iso.describe())
            weak_env = {k: v.replace(INSIDE, str(scratch)) for k, v in env.items()}
            outside = [a.replace(INSIDE, str(scratch)) for a in argv]
            done = await run(outside, cwd=scratch, timeout=timeout, stdin=stdin, on_tick=on_tick,
                             env=weak_env, stop=stop,
                             preexec=lambda: set_limits(asdict(limits), own_uid=False))
        else:
            spec = _jail_spec(scratch, argv, env, limits, iso.separate_uid, group)
            done, started = await _run_jail(spec, timeout=timeout, stdin=stdin, on_tick=on_tick,
                                            stop=stop)
        if group is not None and group.oom_kills():
            over.append(f"the run went over its memory limit ({_size(limits.run_memory_bytes)} for "
                        "all its processes together): the kernel killed a process")
    finally:
        watch.cancel()
        if group is not None:
            await asyncio.to_thread(group.close)
    return SandboxRun(code=done.code, stdout=done.stdout, stderr=done.stderr,
                      timed_out=done.timed_out, isolation=iso, exceeded=over[0] if over else "",
                      started=started)


async def _watch_scratch(scratch: Path, limits: Limits, stop: asyncio.Event, over: list[str]) -> None:
    """Every second, measure ``scratch``; past the limits, say so in ``over`` and set ``stop``."""
    while True:
        await asyncio.sleep(1.0)
        size, files = await asyncio.to_thread(_usage, scratch, limits.scratch_files)
        if size > limits.scratch_bytes or files > limits.scratch_files:
            over.append(f"the run filled its scratch directory over the limit ({_size(size)} in "
                        f"{files} files; at most {_size(limits.scratch_bytes)} and "
                        f"{limits.scratch_files} files)")
            stop.set()
            return


def _size(n: int) -> str:
    return f"{n / GiB:.3g} GiB" if n >= GiB else f"{n / MiB:.0f} MiB"


def _usage(top: Path, max_files: int) -> tuple[int, int]:
    """Bytes on disk and entries under ``top`` (symlinks not followed); counting stops past
    ``max_files`` entries."""
    size, files, todo = 0, 0, [str(top)]
    while todo and files <= max_files:
        with contextlib.suppress(OSError), os.scandir(todo.pop()) as entries:
            for entry in entries:
                files += 1
                with contextlib.suppress(OSError):
                    st = entry.stat(follow_symlinks=False)
                    size += st.st_blocks * 512
                    if entry.is_dir(follow_symlinks=False):
                        todo.append(entry.path)
    return size, files


def processes_of(uid: int | None = None) -> list[int]:
    """Live (not zombie) processes running as ``uid`` (None: as any sandbox uid)."""
    found = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                with open(f"/proc/{entry.name}/status", encoding="ascii", errors="replace") as f:
                    status = f.read()
            except OSError:
                continue
            fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
            if fields.get("State", "").strip().startswith("Z"):
                continue
            owner = int(fields.get("Uid", "-1").split()[0])
            if owner == uid or (uid is None and owner >= UID_BASE):
                found.append(int(entry.name))
    return found


async def _wait_gone(uid: int, timeout: float = 10.0) -> None:
    """Kill whatever still runs as the run's uid (the kernel kills the rest of the PID namespace
    when its first process dies, but a process that left the group could have outlived it), and
    wait until it is gone. The uid is the run's own: nothing else runs as it."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while left := processes_of(uid):
        for pid in left:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        if loop.time() > deadline:
            log.warning("sandbox uid %d: %d processes still alive %.0f s after the run", uid,
                        len(processes_of(uid)), timeout)
            return
        await asyncio.sleep(0.05)


def cleanup(scratch: Path) -> None:
    """Remove a scratch directory (files the sandbox's uid made in it included)."""
    shutil.rmtree(scratch, ignore_errors=True)
