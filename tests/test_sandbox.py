"""The render sandbox against escape attempts, through `runner render` (real manim, real namespaces).

Every attempt runs twice: with the scene policy (it must be blocked, exit 3, unless the lint has
nothing to object to), and with `--no-policy`, where the process boundary alone must contain it:
the expected exit code, and no trace on the machine (sentinel files, processes, network).
"""

from __future__ import annotations

import os
import re
import socket
from pathlib import Path

import pytest
from click.testing import CliRunner

from runner.cli import main
from runner.isolation import sandbox

PLAY = "        self.play(Create(Circle()), run_time=0.2)\n"
# a marker in the worker's environment that must never reach the sandbox (not a real key)
SECRET = "runner-test-marker-not-a-key"
PWNED = "/var/tmp/runner-sandbox-pwned"  # a host path (world-writable there) each attempt tries


def scene(body: str, imports: str = "") -> str:
    lines = "".join(f"        {line}\n" for line in body.strip().splitlines())
    return f"from manim import *\n{imports}\nclass Escape(Scene):\n    def construct(self):\n{lines}{PLAY}"


# name -> (code, exit code with the policy, exit code with --no-policy only)
ATTEMPTS: dict[str, tuple[str, int, int]] = {
    "import os, system()": (scene(f'os.system("touch {PWNED}")', "import os"), 3, 0),
    "import subprocess": (scene(f'subprocess.run(["touch", "{PWNED}"], check=True)',
                                "import subprocess"), 3, 4),
    "__import__ builtin": (scene(f'__import__("os").system("touch {PWNED}")'), 3, 0),
    "exec of a string": (scene(f'exec("import os; os.system(\\"touch {PWNED}\\")")'), 3, 0),
    "eval + getattr": (scene('getattr(eval("__builtins__"), "open")("/etc/passwd-pwned", "w")'), 3, 4),
    "open() outside scratch": (scene(f'open("{PWNED}", "w").write("x")'), 3, 4),
    "write into /usr": (scene('open("/usr/pwned.txt", "w").write("x")'), 3, 4),
    "dunder walk to os": (scene(
        "for c in ().__class__.__bases__[0].__subclasses__():\n"
        "    if c.__name__ == '_wrap_close':\n"
        f"        c.__init__.__globals__['system']('touch {PWNED}')"), 3, 0),
    "generator frame walk": (scene(
        "g = (x for x in [1])\n"
        "b = g.gi_frame.f_globals['__builtins__']\n"
        f"b['open']('{PWNED}', 'w')"), 3, 4),
    "manim utils reach subprocess": (scene(
        f'utils.tex_file_writing.subprocess.run(["touch", "{PWNED}"], check=True)'), 3, 4),
    "manim config write": (scene('config.media_dir = "/etc/pwned"\nconfig["output_file"] = "/etc/x"'),
                           3, 0),
    "numpy save outside": (scene('np.save("/etc/pwned.npy", np.zeros(3))'), 3, 4),
    "camera image save outside": (scene('self.camera.get_image().save("/usr/pwned.png")'), 3, 4),
    "format string attribute walk": (scene('t = "{0.__class__}".format(1)'), 3, 0),
    "network: socket": (scene('socket.create_connection(("1.1.1.1", 53), timeout=3)',
                              "import socket"), 3, 4),
    "network: urllib": (scene('urlopen("http://example.com", timeout=3)',
                              "from urllib.request import urlopen"), 3, 4),
    "secret from the environment": (scene('t = Text(os.environ["ANTHROPIC_API_KEY"])', "import os"),
                                    3, 4),
    "read a home directory": (scene('t = Text(open("/root/.bashrc").read()[:20])'), 3, 4),
    # held at the process limit (it never ends by itself) until the timeout
    "fork bomb": (scene("while True:\n    os.fork()", "import os"), 3, 5),
    # its PID namespace holds nothing else to kill: "No such process"
    "kill everything": (scene("os.kill(-1, 9)", "import os"), 3, 4),
    # nothing for the lint to object to: the sandbox alone contains these
    "memory bomb": (scene("x = bytearray(10**11)"), 4, 4),
    "memory bomb, list": (scene("x = [1] * (10**11)"), 4, 4),
    "infinite loop": (scene("while True:\n    pass"), 5, 5),
    "output flood": (scene('while True:\n    print("x" * 10000)'), 5, 5),
}


@pytest.fixture(scope="module")
def full_isolation() -> sandbox.Isolation:
    import asyncio

    iso = asyncio.run(sandbox.isolation())
    if not iso.namespaces:
        pytest.fail(f"this machine gives no namespaces, the sandbox is weak: {iso.describe()}")
    return iso


def render(tmp_path: Path, name: str, code: str, *extra: str, timeout: float = 8) -> tuple[int, str]:
    path = tmp_path / f"{re.sub(r'[^A-Za-z0-9]+', '_', name)}.py"
    path.write_text(code)
    result = CliRunner().invoke(main, ["render", str(path), "--timeout", str(timeout), *extra],
                                env={"ANTHROPIC_API_KEY": SECRET})
    return result.exit_code, result.output


@pytest.mark.exclusive  # asserts that no sandbox process is left on the machine
@pytest.mark.parametrize("name", list(ATTEMPTS))
def test_escape_attempt_is_blocked_or_contained(name: str, tmp_path: Path,
                                                full_isolation: sandbox.Isolation) -> None:
    code, with_policy, contained = ATTEMPTS[name]
    for extra, expected in (((), with_policy), (("--no-policy",), contained)):
        # what only the time limit ends gets a shorter one (it is what is tested, not its length)
        exit_code, output = render(tmp_path, name, code, *extra, timeout=4 if expected == 5 else 8)
        assert exit_code == expected, f"{name} {extra}: exit {exit_code}, expected {expected}\n{output}"
        if expected == 3:
            assert "blocked by the scene policy" in output and "line " in output
        assert SECRET not in output
        assert not Path(PWNED).exists(), f"{name} {extra}: it wrote {PWNED}"
        for leftover in ("/etc/pwned", "/etc/pwned.npy", "/usr/pwned.txt", "/usr/pwned.png",
                         "/etc/passwd-pwned", "/etc/x"):
            assert not Path(leftover).exists(), f"{name} {extra}: it wrote {leftover}"
        assert sandbox.processes_of() == [], f"{name} {extra}: sandbox processes left running"
        assert not [p for p in tmp_path.iterdir() if p.name.startswith(".render-")]
        assert groups_left() == [], f"{name} {extra}: control groups left"


def groups_left() -> list[Path]:
    """This process's run control groups still on the machine."""
    return list(Path("/sys/fs/cgroup").rglob(f"runner-{os.getpid()}-*"))


def run_py(tmp_path: Path, code: str, limits: sandbox.Limits) -> sandbox.SandboxRun:
    import asyncio
    import sys

    (tmp_path / "p.py").write_text(code)
    return asyncio.run(sandbox.run_sandboxed([sys.executable, f"{sandbox.INSIDE}/p.py"],
                                             scratch=tmp_path, timeout=60, limits=limits))


@pytest.mark.exclusive  # asserts that no sandbox process is left on the machine
def test_memory_of_all_the_runs_processes_together_is_bounded(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, full_isolation: sandbox.Isolation) -> None:
    """Processes each under the per-process limit cannot add up more than the run's memory: the
    run's control group holds them, the kernel kills in it, and the render says why (a scene
    error: the model is told). Small limits here; the same code runs with 4 GiB by default."""
    import asyncio

    from jobs.explainer.scenes import render as render_mod

    if not full_isolation.cgroup:
        pytest.skip(f"no control group on this machine: {full_isolation.cgroup_reason}")
    children = (
        "import os\nkids = []\nfor i in range(4):\n    pid = os.fork()\n    if pid == 0:\n"
        "        b = bytearray(200 * 2**20)\n        import time; time.sleep(3); os._exit(0)\n"
        "    kids.append(pid)\nprint(*[os.waitpid(k, 0)[1] for k in kids])\n")
    done = run_py(tmp_path, children, sandbox.Limits(run_memory_bytes=500 * sandbox.MiB))
    statuses = [int(x) for x in done.stdout.split()]
    assert 9 in statuses, statuses  # SIGKILLed: 4 x 200 MiB do not fit in 500 MiB
    assert "over its memory limit" in done.exceeded
    monkeypatch.setattr(render_mod, "_timeout_limits",
                        lambda timeout: sandbox.Limits(cpu_s=120, run_memory_bytes=700 * sandbox.MiB))
    bomb = asyncio.run(render_mod.render_scene(scene("x = bytearray(1500 * 2**20)"),
                                               output=tmp_path / "bomb.mp4", timeout=60))
    assert bomb.outcome == "scene" and "memory limit (700 MiB" in bomb.message, bomb.message
    assert sandbox.processes_of() == [] and groups_left() == []


@pytest.mark.exclusive  # asserts that no sandbox process is left on the machine
@pytest.mark.parametrize(("name", "code"), [
    ("bytes", "for i in range(100):\n    open(f'/sandbox/f{i}', 'wb').write(b'x' * 50 * 2**20)\n"),
    ("files", "for i in range(10**6):\n    open(f'/tmp/n{i}', 'w').close()\n"),
])
def test_a_run_that_fills_its_scratch_dir_is_stopped(name: str, code: str, tmp_path: Path,
                                                      full_isolation: sandbox.Isolation) -> None:
    """One file is bounded by the file size limit; the scratch directory as a whole by a watch of
    its bytes and entries, which stops the run early with the reason."""
    done = run_py(tmp_path, code + "print('all written')\n",
                  sandbox.Limits(scratch_bytes=300 * sandbox.MiB, scratch_files=20_000))
    assert done.code == -9 and not done.timed_out and b"all written" not in done.stdout
    assert "filled its scratch directory over the limit" in done.exceeded, done
    assert sandbox.processes_of() == []


def test_sandbox_layers_seen_from_inside(tmp_path: Path, full_isolation: sandbox.Isolation) -> None:
    """What the code sees: no network interface up, only its own processes, a fresh uid, a root
    holding only the listed directories, and a clean environment."""
    import asyncio
    import sys

    probe = (
        "import os, socket, json\n"
        "out = {'uid': os.getuid(), 'pids': sorted(os.listdir('/proc'))[:3],\n"
        "       'root': sorted(os.listdir('/')), 'env': sorted(os.environ), 'cwd': os.getcwd(),\n"
        "       'etc': sorted(os.listdir('/etc'))}\n"
        "try:\n    socket.create_connection(('127.0.0.1', 22), 1)\n    out['net'] = 'open'\n"
        "except OSError as e:\n    out['net'] = e.strerror\n"
        "for p in ('/sandbox/ok', '/tmp/ok', '/usr/no', '/no'):\n"
        "    try:\n        open(p, 'w').close(); out[p] = 'written'\n"
        "    except OSError as e:\n        out[p] = e.strerror\n"
        "print(json.dumps(out))\n")
    (tmp_path / "probe.py").write_text(probe)
    os.environ["RUNNER_TEST_SECRET"] = "hidden"
    try:
        done = asyncio.run(sandbox.run_sandboxed([sys.executable, f"{sandbox.INSIDE}/probe.py"],
                                                 scratch=tmp_path, timeout=30))
    finally:
        del os.environ["RUNNER_TEST_SECRET"]
    import json

    seen = json.loads(done.stdout)
    assert seen["uid"] >= sandbox.UID_BASE
    assert seen["pids"][0] == "1" and "2" not in [p for p in seen["pids"] if p.isdigit()][1:2]
    assert seen["net"] in ("Network is unreachable", "Connection refused") and seen["net"] != "open"
    assert seen["/sandbox/ok"] == "written" and seen["/tmp/ok"] == "written"
    assert seen["/usr/no"] == "Read-only file system" and seen["/no"] == "Read-only file system"
    assert "work" not in seen["root"] or Path(sys.prefix).is_relative_to("/work")
    assert "home" not in seen["root"] and "RUNNER_TEST_SECRET" not in seen["env"]
    assert "passwd" not in seen["etc"] and "hostname" not in seen["etc"] and "fonts" in seen["etc"]
    assert {f"/etc/{name}" for name in seen["etc"]} <= set(sandbox.ETC_KEEP)
    assert not [k for k in seen["env"] if "KEY" in k or "TOKEN" in k]
    assert (tmp_path / "ok").exists() and (tmp_path / "tmp" / "ok").exists()
    assert done.isolation.describe().startswith("full")


def test_tex_reads_no_file_outside_the_scratch_dir(tmp_path: Path,
                                                   full_isolation: sandbox.Isolation) -> None:
    """A scene's LaTeX can `\\input` any file the jail shows, e.g. under /etc or /usr; TeX runs
    paranoid (absolute paths only inside the scratch dir). The same file compiles outside the
    sandbox (TeX's default), so this checks the setting, not a missing file."""
    import asyncio
    import shutil
    import subprocess

    doc = "\\documentclass{article}\\begin{document}\\input{/etc/ld.so.conf}\\end{document}\n"
    (tmp_path / "a.tex").write_text(doc)
    latex = [shutil.which("latex") or "latex", "-interaction=batchmode", "-halt-on-error"]
    host = subprocess.run([*latex, f"-output-directory={tmp_path}", str(tmp_path / "a.tex")],
                          capture_output=True, cwd="/")
    assert host.returncode == 0, "TeX's default reads /etc/ld.so.conf: the control case"
    (tmp_path / "a.log").unlink()
    done = asyncio.run(sandbox.run_sandboxed(
        [*latex, f"-output-directory={sandbox.INSIDE}", f"{sandbox.INSIDE}/a.tex"],
        scratch=tmp_path, timeout=60))
    assert done.code != 0
    assert "File `/etc/ld.so.conf' not found" in (tmp_path / "a.log").read_text()


def test_network_unreachable_even_to_loopback_services(tmp_path: Path) -> None:
    """A service on the worker's loopback (the Temporal server, the provider simulator) is out of
    reach: the sandbox has its own loopback, and it is down."""
    import asyncio
    import sys

    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        (tmp_path / "p.py").write_text(
            "import socket\ntry:\n"
            f"    socket.create_connection(('127.0.0.1', {port}), 2); print('reached')\n"
            "except OSError as e:\n    print('unreachable', e.strerror)\n")
        done = asyncio.run(sandbox.run_sandboxed([sys.executable, f"{sandbox.INSIDE}/p.py"],
                                                 scratch=tmp_path, timeout=30))
    assert done.stdout.decode().startswith("unreachable"), done.stdout


def test_weak_mode_still_renders_with_limits_and_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                         caplog: pytest.LogCaptureFixture) -> None:
    """Where namespaces are unavailable, a root worker refuses to run model code unless told to
    accept a weak sandbox; then a render runs (limits, clean environment, process group) and every
    run says the sandbox is weak: in the log and in the render's result."""
    import asyncio

    from jobs.explainer.scenes.render import render_scene

    monkeypatch.setattr(sandbox, "_isolation", sandbox.Isolation(namespaces=False, separate_uid=False,
                                                                 reason="unshare: Operation not permitted"))
    code = scene("x = bytearray(10**11)")
    refused = asyncio.run(render_scene(scene(""), output=tmp_path / "no.mp4", timeout=60))
    assert refused.outcome == "infra" and "refusing to run model-written code as root" in refused.message
    monkeypatch.setenv(sandbox.WEAK_OPT_IN, "1")
    with caplog.at_level("WARNING", logger="runner.isolation.sandbox"):
        ok = asyncio.run(render_scene(scene(""), output=tmp_path / "ok.mp4", timeout=60))
        bomb = asyncio.run(render_scene(code, output=tmp_path / "bomb.mp4", timeout=60))
    assert ok.outcome == "ok" and ok.isolation.startswith("weak: no network or file system isolation")
    assert bomb.outcome == "scene" and "MemoryError" in bomb.message  # the address-space limit held
    assert "without namespaces" in caplog.text and "Operation not permitted" in caplog.text


def test_a_planted_symlink_is_never_taken_for_the_video(tmp_path: Path) -> None:
    """The code owns its scratch directory: a symlink planted where manim puts videos (to a file of
    the worker's) must not be moved into the output; the video is a plain file owned by the worker."""
    secret = tmp_path / "worker-secret.txt"
    secret.write_text("worker only")
    secret.chmod(0o600)
    os.utime(secret, (2e9, 2e9))  # newer than any video: what a sort by (followed) mtime takes
    code = scene(
        'os.makedirs("/sandbox/media/videos/scene/zz", exist_ok=True)\n'
        f'os.symlink("{secret}", "/sandbox/media/videos/scene/zz/scene.mp4")', "import os")
    exit_code, output = render(tmp_path, "symlink", code, "--no-policy", "-o", str(tmp_path / "v.mp4"))
    video = tmp_path / "v.mp4"
    assert exit_code == 0, output
    assert not video.is_symlink() and video.read_bytes() != secret.read_bytes()
    st = video.stat()
    assert (st.st_uid, st.st_gid, st.st_mode & 0o7777) == (os.getuid(), os.getgid(), 0o644)


def test_a_full_disk_is_an_infrastructure_failure(tmp_path: Path, full_isolation: sandbox.Isolation) -> None:
    """ENOSPC says nothing about the scene: the render is retried (infra), never sent to the model.
    The scratch dir lives on a 2 MiB tmpfs here; the scene writes 3 MiB."""
    import asyncio
    import subprocess

    from jobs.explainer.scenes.render import render_scene

    if os.geteuid() != 0:
        pytest.skip("mounting a small file system for the full disk needs root")
    disk = tmp_path / "small"
    disk.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(disk)], check=True)
    try:
        code = scene("open('/sandbox/big', 'wb').write(b'x' * 3 * 2**20)")
        result = asyncio.run(render_scene(code, output=tmp_path / "v.mp4", workdir=disk, lint=False,
                                          timeout=60))
    finally:
        subprocess.run(["umount", str(disk)], check=True)
    assert result.outcome == "infra" and "the disk is full" in result.message, result.message


def test_a_setup_failure_is_told_apart_from_the_commands_own_exit(
        tmp_path: Path, full_isolation: sandbox.Isolation) -> None:
    """The bootstrap reports a failure through a pipe the exec closes: a command that prints the
    same words and exits the same way is still a command that ran."""
    import asyncio
    import sys

    fake = ("import sys; sys.stderr.write('runner sandbox: cannot set up the jail: fake'); "
            "sys.exit(125)")
    real = asyncio.run(sandbox.run_sandboxed(["/nonexistent/manim"], scratch=tmp_path, timeout=30))
    forged = asyncio.run(sandbox.run_sandboxed([sys.executable, "-c", fake], scratch=tmp_path, timeout=30))
    assert (real.code, real.started) == (125, False) and b"No such file" in real.stderr
    assert (forged.code, forged.started) == (125, True)
