"""The sandbox's bootstrap: run by ``unshare`` inside the new namespaces, it builds the jail and
execs the command in it.

``python -I -m runner.isolation.jail SPEC_JSON``: it joins the run's control group, makes a read-only
root (a tmpfs holding only the :class:`JailSpec`'s binds and links, the scratch directory at
:data:`INSIDE` and ``/tmp``, four device nodes, a fresh ``/proc``), enters it, drops to the run's uid
with ``no_new_privs``, sets the limits, and execs. Why the jail could not be built goes to the
spec's ``setup_fd`` (a pipe the exec closes), so nothing the command does can look like a setup
failure. It runs as root before the jail exists: it imports only the standard library.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import resource
import sys
from dataclasses import dataclass, field
from pathlib import Path

INSIDE = "/sandbox"  # where the scratch directory is mounted inside the jail
JAIL_DIR = ".jail"  # in the scratch directory: the mount point of the jail's root
DEVICES = ("null", "zero", "random", "urandom")


@dataclass(frozen=True)
class JailSpec:
    """What the bootstrap inside the namespaces sets up (passed as JSON)."""

    scratch: str
    argv: list[str]
    env: dict[str, str]
    limits: dict[str, int]
    uid: int | None  # None: keep the current uid (a user namespace's root)
    binds: list[str] = field(default_factory=list)  # read-only, at the same path
    links: dict[str, str] = field(default_factory=dict)  # symlinks to recreate: path -> target
    cgroups: list[str] = field(default_factory=list)  # cgroup.procs files to join first
    setup_fd: int = -1  # why the jail or the exec failed goes here; closed on exec


def set_limits(limits: dict[str, int], *, own_uid: bool) -> None:
    """Apply ``limits`` to this process (and what it starts). The process limit counts every
    process of the uid, so it is only set for a fresh uid: for the worker's own user it would count
    the worker too (and root is exempt from it anyway)."""
    pairs = [("RLIMIT_AS", limits["memory_bytes"]), ("RLIMIT_CPU", limits["cpu_s"]),
             ("RLIMIT_FSIZE", limits["file_bytes"]), ("RLIMIT_NOFILE", limits["open_files"]),
             ("RLIMIT_CORE", 0)]
    if own_uid:
        pairs.append(("RLIMIT_NPROC", limits["processes"]))
    for name, value in pairs:
        resource.setrlimit(getattr(resource, name), (value, value))


_MS_RDONLY, _MS_NOSUID, _MS_NODEV, _MS_NOEXEC = 1, 2, 4, 8
_MS_REMOUNT, _MS_BIND, _MS_REC = 32, 4096, 16384
_PR_SET_NO_NEW_PRIVS = 38
_PR_SET_PDEATHSIG = 1


def _mount(libc: ctypes.CDLL, source: str | None, target: str, fstype: str | None, flags: int,
           data: str | None = None) -> None:
    if libc.mount(source and source.encode(), target.encode(), fstype and fstype.encode(),
                  ctypes.c_ulong(flags), data and data.encode()) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"mount {source} on {target}: {os.strerror(err)}")


def _bind(libc: ctypes.CDLL, source: str, target: str, *, writable: bool = False,
          device: bool = False) -> None:
    _mount(libc, source, target, None, _MS_BIND | _MS_REC)
    if writable and not device:
        _mount(libc, None, target, None, _MS_REMOUNT | _MS_BIND | _MS_NOSUID | _MS_NODEV)
    if not writable:
        # keep the flags the source mount has (a user namespace may not clear them)
        st = os.statvfs(source)
        kept = (st.f_flag & (os.ST_NOSUID | os.ST_NODEV | os.ST_NOEXEC)) if hasattr(os, "ST_NOEXEC") else 0
        _mount(libc, None, target, None, _MS_REMOUNT | _MS_BIND | _MS_RDONLY | kept)


def _jail(spec: JailSpec) -> None:
    """Build the read-only root, enter it, drop privileges and limits, exec the command."""
    libc = ctypes.CDLL(None, use_errno=True)
    for procs in spec.cgroups:  # before anything else: all the run's processes are in the group
        try:
            Path(procs).write_text("0")
        except OSError as exc:
            raise OSError(exc.errno, f"cannot join the cgroup {Path(procs).parent}: {exc.strerror}") from None
    scratch = spec.scratch
    root = f"{scratch}/{JAIL_DIR}"
    if spec.uid is not None:  # first, while nothing is mounted below the scratch directory
        for dirpath, dirnames, filenames in os.walk(scratch):
            if dirpath == scratch:
                dirnames.remove(JAIL_DIR)
            for name in (dirpath, *(os.path.join(dirpath, n) for n in dirnames + filenames)):
                os.lchown(name, spec.uid, spec.uid)
    _mount(libc, "jail", root, "tmpfs", _MS_NOSUID, "size=1m,mode=755")
    os.makedirs(root + INSIDE)
    _bind(libc, scratch, root + INSIDE, writable=True)
    os.makedirs(f"{root}/tmp")
    _bind(libc, f"{scratch}/tmp", f"{root}/tmp", writable=True)
    os.makedirs(f"{root}/dev")
    for dev in DEVICES:
        Path(f"{root}/dev/{dev}").touch()
        _bind(libc, f"/dev/{dev}", f"{root}/dev/{dev}", writable=True, device=True)
    os.makedirs(f"{root}/proc")
    with contextlib.suppress(OSError):  # some containers forbid a new /proc; Python does without
        _mount(libc, "proc", f"{root}/proc", "proc", _MS_NOSUID | _MS_NODEV | _MS_NOEXEC)
    for path in spec.binds:  # a virtualenv under /tmp lands in the scratch dir's tmp: no matter
        if os.path.isdir(path):
            os.makedirs(root + path, exist_ok=True)
        else:
            os.makedirs(os.path.dirname(root + path), exist_ok=True)
            Path(root + path).touch()
        _bind(libc, path, root + path)
    for path, target in spec.links.items():
        os.makedirs(os.path.dirname(root + path), exist_ok=True)
        os.symlink(target, root + path)
    _mount(libc, None, root, None, _MS_REMOUNT | _MS_RDONLY | _MS_NOSUID)
    os.chroot(root)
    os.chdir(INSIDE)
    if spec.uid is not None:
        os.setgroups([])
        os.setgid(spec.uid)
        os.setuid(spec.uid)
    # a uid change clears the death signal `unshare --kill-child` set: set it again, so this
    # process dies with unshare even if it leaves the process group
    if libc.prctl(_PR_SET_PDEATHSIG, 9, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG)")
    if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS)")
    set_limits(spec.limits, own_uid=spec.uid is not None)
    os.execve(spec.argv[0], spec.argv, spec.env)


def main() -> None:
    """Entry point of the bootstrap: ``python -I -m runner.isolation.jail SPEC_JSON``."""
    spec = JailSpec(**json.loads(sys.argv[1]))
    if spec.setup_fd >= 0:  # the command must not inherit it: what it holds is the sandbox's word
        os.set_inheritable(spec.setup_fd, False)
    try:
        _jail(spec)
    except Exception as exc:  # the caller reads this as an infrastructure failure
        message = f"runner sandbox: cannot set up the jail: {exc}"
        print(message, file=sys.stderr)
        if spec.setup_fd >= 0:
            os.write(spec.setup_fd, message.encode()[:4000])
        raise SystemExit(125) from None


if __name__ == "__main__":
    main()
