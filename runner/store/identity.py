"""What decides a cached step's output besides its input: the step's own code and the tools it runs.

A job kind names them in its :class:`runner.contract.jobkind.Step` (``code``, ``packages``,
``programs``); :func:`step_identity` turns that into the part of the step's cache key that is not its
input. Workers (looking a step up) and ``runner plan`` (predicting what would run) compute it alike.
Nothing here imports the code it hashes: sources are read from where Python would find them.
"""

from __future__ import annotations

import ast
import hashlib
import importlib.util
import inspect
import subprocess
from collections.abc import Callable, Iterable
from functools import cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from runner.contract.jobkind import Step
from runner.contract.llm import OFFLINE_WPM

PROGRAM_TIMEOUT_S = 20.0


def _module_paths(module: str) -> list[Path]:
    """The source files of a module, or of a package with its subpackages.

    Raises:
        ValueError: no such module, or one without source.
    """
    spec = importlib.util.find_spec(module)
    if spec is None:
        raise ValueError(f"step code {module!r}: no such module")
    if spec.submodule_search_locations:
        return sorted(p for folder in spec.submodule_search_locations
                      for p in Path(folder).rglob("*.py"))
    if not spec.origin or not spec.origin.endswith(".py"):
        raise ValueError(f"step code {module!r}: no Python source")
    return [Path(spec.origin)]


def _definition(path: Path, qualname: str) -> str:
    """The source of the function or class ``qualname`` (``Class.method``) in ``path``.

    Raises:
        ValueError: ``path`` defines no such thing.
    """
    text = path.read_text(encoding="utf-8")
    body: list[ast.stmt] = ast.parse(text).body
    found: ast.stmt | None = None
    for part in qualname.split("."):
        found = next((n for n in body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef
                                                    | ast.ClassDef) and n.name == part), None)
        if found is None:
            raise ValueError(f"step code {path.name}:{qualname}: not defined there")
        body = getattr(found, "body", [])
    return (ast.get_source_segment(text, found) or "") if found is not None else ""


@cache
def source_version(names: tuple[str, ...]) -> str:
    """A hash of the source of ``names`` (see :attr:`Step.code`); read once per process (a worker
    reads it when it starts, with the code it imports: an edit made afterwards is not its code)."""
    digest = hashlib.sha256()
    for name in sorted(names):
        module, _, qualname = name.partition(":")
        digest.update(name.encode() + b"\0")
        for path in _module_paths(module):
            source = _definition(path, qualname) if qualname else path.read_text(encoding="utf-8")
            digest.update(path.name.encode() + b"\0" + source.encode() + b"\0")
    return digest.hexdigest()[:20]


@cache
def package_version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "missing"


@cache
def program_version(command: str) -> str:
    """The first line ``command`` prints (e.g. ``ffmpeg -version``), or ``missing``."""
    try:
        done = subprocess.run(command.split(), capture_output=True, text=True,
                              timeout=PROGRAM_TIMEOUT_S, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return "missing"
    lines = (done.stdout or done.stderr).strip().splitlines()
    return lines[0].strip() if lines else "missing"


def step_identity(job: str, step: Step) -> dict[str, Any]:
    """What besides its input decides the output of ``step`` of job kind ``job``.

    Raises:
        ValueError: the step names code that cannot be found (a mistake of the job kind).
    """
    return {"job": job, "step": step.name, "code": source_version(tuple(step.code)),
            "packages": {p: package_version(p) for p in step.packages},
            "programs": {p: program_version(p) for p in step.programs}}


def code_version(objects: Iterable[Callable[..., Any]]) -> str:
    """A hash of the code behind ``objects`` (functions, classes): every Python file of the package
    each is defined in, with its subpackages. A change there makes their cache entries misses."""
    digest = hashlib.sha256()
    for folder in sorted({Path(inspect.getfile(o)).resolve().parent for o in objects}):
        for path in sorted(folder.rglob("*.py")):
            digest.update(str(path.relative_to(folder)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:20]


@cache
def _code_of(objects: tuple[Callable[..., Any], ...]) -> str:
    return code_version(objects)


@cache  # (asks espeak-ng its version once per process)
def speech_identity(provider: str, model: str) -> dict[str, Any]:
    """What besides the text and voice decides a speech call's audio: the provider and its model
    id; for the ``offline`` voice, espeak-ng's version and pace."""
    if provider == "offline":
        return {"speech": "offline", "model": model, "wpm": OFFLINE_WPM,
                "programs": {"espeak-ng": program_version("espeak-ng --version")}}
    return {"speech": provider, "model": model, "format": "wav"}


def llm_identity(provider: str, model: str, responders: Iterable[Callable[..., Any]]) -> dict[str, str]:
    """What besides the request decides an LLM answer: the provider and its model id; for the
    ``offline`` provider also the code of the job kinds' offline responders."""
    if provider == "offline":
        return {"llm": "offline", "model": model, "code": _code_of(tuple(responders))}
    return {"llm": provider, "model": model}
