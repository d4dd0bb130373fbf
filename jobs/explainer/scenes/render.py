"""Render one scene through the sandbox: the static checks, then manim in a contained process.

Used by the render step and by ``runner render``, so users debug generated scenes with exactly the
sandbox the pipeline uses. An outcome is one of:

* ``ok``: the video is at the requested path;
* ``policy``: the static lint blocked the code (nothing ran); the message names the rule and line;
* ``scene``: the scene code is wrong (a Python error in it, bad LaTeX, no animation, a resource
  limit it ran into such as memory); the message holds the relevant traceback lines. The pipeline
  sends these to the scripting model;
* ``infra``: the render could not be judged (a timeout, manim killed by a signal, the sandbox could
  not start); Temporal retries these, the model never sees them.
"""

from __future__ import annotations

import ast
import contextlib
import os
import re
import shutil
import signal
import stat
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from jobs.explainer.scenes.check import check_scene
from jobs.explainer.scenes.finding import Finding
from runner.isolation.sandbox import INSIDE, Limits, cleanup, run_sandboxed

Outcome = Literal["ok", "policy", "scene", "infra"]
QUALITY_FLAGS: dict[str, str] = {"low": "-ql", "medium": "-qm", "high": "-qh"}
DEFAULT_TIMEOUT_S = 900.0
MANIM_CFG = "[CLI]\nnotify_outdated_version = False\n"  # no look-up on PyPI (there is no network)
SCENE_FILE = "scene.py"

_FRAME = re.compile(rf"{re.escape(INSIDE)}/{SCENE_FILE}:(\d+) in (\S+)")
_ARROW = re.compile(r"❱\s*(\d+)\s*│?(.*)")


@dataclass
class RenderResult:
    """What became of one scene."""

    outcome: Outcome
    message: str = ""
    video: Path | None = None
    rewrites: list[Finding] = field(default_factory=list)
    isolation: str = ""
    seconds: float = 0.0


def scene_classes(code: str) -> list[str]:
    """The scene classes a module defines at its top level: those derived from a manim scene class
    (a base named ``...Scene``) or from another of its scenes, and not themselves the base of one
    (a shared base is not rendered); not its helper classes (a dataclass of edges). All its classes
    if none looks like a scene; an empty list if it does not parse."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError, RecursionError):
        return []
    classes = {n.name: [b.id if isinstance(b, ast.Name) else b.attr if isinstance(b, ast.Attribute)
                        else "" for b in n.bases]
               for n in tree.body if isinstance(n, ast.ClassDef) and n.name != "GraphSceneCompat"}
    scenes: set[str] = set()
    grew = True
    while grew:  # a scene's subclass is a scene
        found = {name for name, bases in classes.items()
                 if any(b.endswith("Scene") or b in scenes for b in bases)}
        grew, scenes = found != scenes, found
    bases = {b for name in scenes for b in classes[name]}
    return [name for name in classes if name in scenes and name not in bases] or list(classes)


def error_summary(stdout: bytes, stderr: bytes, limit: int = 40, name: str = SCENE_FILE) -> str:
    """The lines of manim's output that say what is wrong with the scene: its ERROR log lines (with
    their context, e.g. a LaTeX error), the traceback's frames in the scene file, and the
    exception itself."""
    out = stdout.decode("utf-8", "replace").splitlines()
    err = stderr.decode("utf-8", "replace").splitlines()
    lines: list[str] = []
    for text in (out, err):
        for i, line in enumerate(text):
            if " ERROR " in f" {line} " and "│" not in line:
                lines.append(_clean(line))
                lines.extend(_clean(x) for x in text[i + 1:i + 6] if x.startswith(" " * 20) and x.strip())
    frames: list[str] = []
    for i, line in enumerate(err):
        found = _FRAME.search(line)
        if found:
            code = next((m for m in (_ARROW.search(x) for x in err[i + 1:i + 12]) if m), None)
            where = f"  {name} line {found.group(1)}, in {found.group(2)}"
            frames.append(where + (f": {_clean(code.group(2))}" if code else ""))
    box_end = max((i for i, line in enumerate(err) if line.startswith("╰")), default=None)
    if box_end is not None:
        exception = [x for x in err[box_end + 1:] if x.strip()]
    else:
        start = max((i for i, line in enumerate(err) if line.startswith("Traceback")), default=None)
        exception = err[start:] if start is not None else [x for x in err if x.strip()][-8:]
    summary = list(dict.fromkeys(x for x in lines if x))[:15]
    if frames:
        summary += ["Traceback (scene file frames):", *frames[-5:]]
    summary += exception[-10:]
    return "\n".join(summary[-limit:]).strip()


def _clean(line: str) -> str:
    line = line.strip().strip("│").strip()
    return re.sub(r"\s{2,}\S+\.py:\d+$", "", re.sub(r"^\[[^]]*\]\s*", "", line)).strip()


def manim_argv(directory: str, class_name: str, quality: str) -> list[str]:
    """The manim command that renders ``directory``/scene.py's ``class_name`` into
    ``directory``/media/videos/scene/<quality dir>/scene.mp4."""
    return [sys.executable, "-m", "manim", "render", QUALITY_FLAGS[quality],
            "--media_dir", f"{directory}/media", "--progress_bar", "none", "-v", "WARNING",
            "-o", "scene", f"{directory}/{SCENE_FILE}", class_name]


def _timeout_limits(timeout: float) -> Limits:
    return Limits(cpu_s=int(max(timeout, 10) * 2))


async def render_scene(
    code: str, *, output: Path, quality: str = "low", class_name: str | None = None,
    timeout: float = DEFAULT_TIMEOUT_S, workdir: Path | None = None,
    on_tick: Callable[[], None] | None = None, lint: bool = True, name: str = SCENE_FILE,
) -> RenderResult:
    """Check and render ``code`` (one scene module) to ``output`` through the sandbox.

    Args:
        code: The scene module's source.
        output: Where the mp4 goes (written only when the outcome is ``ok``).
        quality: low | medium | high.
        class_name: The Scene class to render; None: the module's only class.
        timeout: Seconds the render may take (wall clock); twice that in CPU seconds.
        workdir: Where the scratch directory is made (default: next to ``output``).
        on_tick: Called every second while manim runs (a heartbeat).
        lint: False skips the static checks (the sandbox alone contains the code).
        name: How messages name the scene file.
    """
    started = time.monotonic()
    rewrites: list[Finding] = []
    if lint:
        checked = check_scene(code, class_name)
        rewrites = checked.rewrites
        if checked.violations:
            return RenderResult("policy", "blocked by the scene policy:\n" +
                                "\n".join(str(f) for f in checked.violations), rewrites=rewrites)
        if checked.problems:
            return RenderResult("scene", "\n".join(str(f) for f in checked.problems), rewrites=rewrites)
        code = checked.code
    if class_name is None:
        classes = scene_classes(code)
        if len(classes) != 1:
            return RenderResult("scene", "the file must define exactly one scene class, or name one "
                                f"(it defines: {', '.join(classes) or 'none'})", rewrites=rewrites)
        class_name = classes[0]
    output.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".render-{output.stem}-", dir=workdir or output.parent))
    try:
        (scratch / SCENE_FILE).write_text(code, encoding="utf-8")
        (scratch / "manim.cfg").write_text(MANIM_CFG, encoding="utf-8")
        argv = manim_argv(INSIDE, class_name, quality)
        done = await run_sandboxed(argv, scratch=scratch, timeout=timeout,
                                   limits=_timeout_limits(timeout), on_tick=on_tick)
        result = (_judge(done.code, done.stdout, done.stderr, done.timed_out, timeout, name)
                  if done.started else RenderResult("infra", "the sandbox could not start manim:\n" +
                                                    done.stderr.decode("utf-8", "replace")[-500:]))
        if done.exceeded and result.outcome != "ok":  # a bound of the whole run: the scene's doing
            result = RenderResult("scene", done.exceeded)
        if rewrites and result.outcome == "scene":
            result.message += "\n(line numbers are of the code after the known-API rewrites)"
        result.rewrites, result.isolation = rewrites, done.isolation.describe()
        if result.outcome == "ok":
            if not _take_video(scratch, output):
                result.outcome = "scene"
                result.message = ("manim exited 0 but wrote no video: construct() must play at least "
                                  "one animation")
            else:
                result.video = output
        result.seconds = round(time.monotonic() - started, 2)
        return result
    finally:
        cleanup(scratch)


def _videos_made(scratch: Path) -> list[Path]:
    """Where manim may have written the video in ``scratch``, newest first (by the entry itself, not
    what a symlink points at)."""
    found = []
    for path in scratch.glob("media/videos/scene/*/scene.mp4"):
        with contextlib.suppress(OSError):
            found.append((path.lstat().st_mtime, path))
    return [p for _, p in sorted(found, reverse=True)[:8]]


def _take_video(scratch: Path, output: Path) -> bool:
    """Copy the video manim made into ``output``, a new file of the worker's.

    The sandboxed code owns the scratch directory and may plant symlinks there, or swap entries
    while the worker looks: the file is opened without following a final symlink, and it must be a
    regular file whose real path is inside ``scratch`` once open; the copy goes into a file the
    worker creates, and nothing is changed by path."""
    inside = str(scratch.resolve()) + "/"
    for path in _videos_made(scratch):
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        except OSError:
            continue
        with os.fdopen(fd, "rb") as src:
            real = os.readlink(f"/proc/self/fd/{fd}")
            if not stat.S_ISREG(os.fstat(fd).st_mode) or not real.startswith(inside):
                continue
            partial = output.with_name(f".{output.name}.partial")
            with open(partial, "wb") as dst:
                shutil.copyfileobj(src, dst, 1024 * 1024)
            os.replace(partial, output)
            return True
    return False


def _judge(code: int, stdout: bytes, stderr: bytes, timed_out: bool, timeout: float,
           name: str) -> RenderResult:
    if timed_out:
        return RenderResult("infra", f"the render timed out after {timeout:g} s")
    if code == 0:
        return RenderResult("ok")
    if code < 0:
        sig = signal.Signals(-code).name if -code in signal.valid_signals() else str(-code)
        if -code == signal.SIGXCPU:
            return RenderResult("infra", "the render used up its CPU time limit (SIGXCPU)")
        if -code == signal.SIGXFSZ:
            return RenderResult("scene", "the scene wrote a file over the size limit (SIGXFSZ)")
        return RenderResult("infra", f"manim was killed by {sig}")
    summary = error_summary(stdout, stderr, name=name)
    if "[Errno 28]" in summary or "No space left on device" in summary:  # the worker's disk, not the scene
        return RenderResult("infra", f"the disk is full:\n{summary}")
    if "Traceback" in stderr.decode("utf-8", "replace") or "Error" in summary:
        return RenderResult("scene", summary)
    return RenderResult("infra", f"manim failed (exit {code}) without a scene error:\n{summary}")
