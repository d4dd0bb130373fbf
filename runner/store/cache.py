"""The step cache's storage: finished steps' outputs, content-addressed, shared by batches.

An entry is a step's output (its JSON, with the paths of the files it made written relative to the
folders they lie in, e.g. ``{topic}/scenes/s1.mp4`` for the topic's folder, ``{output}/t1.mp4`` for
the batch's) and those files, under ``entries/<k[:2]>/<key>/``. It is built in
``tmp/`` and published by one rename, so a reader finds a whole entry or none; two workers publishing
the same key keep the first. Keys come from :func:`cache_key`: the step's identity and its input,
where a file the input names counts by its content, not by where it lies (the same step in
another batch's folder hits).

This module is the storage only. The engine decides what is looked up and published, and when:
today LLM answers (looked up by the LLM activity before it calls a model; published by the topic's
result write for the answers the workflow kept, so a rejected answer or a failed step never is).
The job steps (validate, render, merge, ...) do not use it yet.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import os
import shutil
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

META = "meta.json"
Roots = dict[str, Path]  # name -> folder; a path under it is stored as "{name}/rel"
CHUNK = 1 << 20


def file_digest(path: Path) -> str:
    """sha256 of a file's content."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(CHUNK):
            digest.update(block)
    return digest.hexdigest()


def _split(text: str, roots: Roots) -> tuple[str, str] | None:
    """``text`` as (root name, path relative to it) for the deepest root it lies under, or None."""
    best: tuple[str, str] | None = None
    depth = -1
    for name, root in roots.items():
        prefix = str(root) + os.sep
        if text.startswith(prefix) and len(prefix) > depth and _inside(text[len(prefix):]):
            best, depth = (name, text[len(prefix):]), len(prefix)
    return best


def _normal(value: Any, roots: Roots) -> Any:
    """``value`` with each path under a root made relative to it, a file also by its content."""
    if isinstance(value, dict):
        return {k: _normal(v, roots) for k, v in sorted(value.items())}
    if isinstance(value, list):
        return [_normal(v, roots) for v in value]
    if isinstance(value, str) and (found := _split(value, roots)) is not None:
        name, rel = found
        path = roots[name] / rel
        return f"{{{name}}}/{rel}@{file_digest(path)}" if path.is_file() else f"{{{name}}}/{rel}"
    return value


def cache_key(identity: dict[str, Any], step_input: Any, roots: Roots) -> str:
    """The key of a step: ``identity`` (job kind, step, the version of the step's code, the versions
    of the tools it runs, model and sampling settings: whatever else decides its output) and its
    input (JSON-able), with the files under ``roots`` it names counted by content, not place."""
    canonical = json.dumps({"identity": identity, "input": _normal(step_input, roots)},
                           sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def code_version(objects: Iterable[Callable[..., Any]]) -> str:
    """A hash of the code behind ``objects`` (functions, classes): every Python file of the package
    each is defined in, with its subpackages. A change there makes their cache entries misses."""
    digest = hashlib.sha256()
    for folder in sorted({Path(inspect.getfile(o)).resolve().parent for o in objects}):
        for path in sorted(folder.rglob("*.py")):
            digest.update(str(path.relative_to(folder)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:20]


@dataclass(frozen=True)
class Entry:
    """A published step output."""

    key: str
    output: Any  # paths under a root as "{name}/..."
    files: list[str]  # the files the output names, as "{name}/rel"
    produced_by: dict[str, str]  # batch, run, topic, step, at: where it was made
    path: Path


class StepCache:
    """Entries under ``root`` (by default ``$RUNNER_HOME/cache``)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _dir(self, key: str) -> Path:
        return self.root / "entries" / key[:2] / key

    def lookup(self, key: str) -> Entry | None:
        """The entry of ``key``, or None (also when a file of it has gone missing)."""
        where = self._dir(key)
        try:
            meta = json.loads((where / META).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        files = [str(f) for f in meta.get("files", [])]
        if not all(_inside(f.partition("}/")[2]) and (where / "files" / f).is_file() for f in files):
            return None  # a file gone, or a path out of its folder (the store is shared)
        return Entry(key=key, output=meta.get("output"), files=files,
                     produced_by=dict(meta.get("produced_by", {})), path=where)

    def publish(self, key: str, output: Any, roots: Roots, produced_by: dict[str, str], *,
                replace: bool = False) -> bool:
        """Store ``output`` (a finished step's, naming files under ``roots``) under ``key``.
        Returns False if an entry was already there (it is kept, unless ``replace``: then a reader
        finds the old entry, then none for a moment, then the new one; never a mix).

        Raises:
            FileNotFoundError: a path the output names under a root does not exist (a step whose
                outputs are not all there is not cached).
        """
        if self._dir(key).is_dir() and not replace:
            return False
        files: list[str] = []
        stored = self._relative(output, roots, files)
        tmp = self.root / "tmp" / f"{key}.{uuid.uuid4().hex}"
        try:
            for stored_as in files:
                target = tmp / "files" / stored_as
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(_resolve(stored_as, roots), target)
            tmp.mkdir(parents=True, exist_ok=True)
            (tmp / META).write_text(json.dumps({"key": key, "output": stored, "files": files,
                                                "produced_by": produced_by}, ensure_ascii=False),
                                    encoding="utf-8")
            final = self._dir(key)
            final.parent.mkdir(parents=True, exist_ok=True)
            if replace and final.is_dir():
                old = self.root / "tmp" / f"{key}.old.{uuid.uuid4().hex}"
                os.rename(final, old)
                shutil.rmtree(old, ignore_errors=True)
            try:
                os.rename(tmp, final)  # the publication: whole, or not at all
            except OSError:
                if final.is_dir():  # another worker published it first
                    return False
                raise
            return True
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def _relative(self, value: Any, roots: Roots, files: list[str]) -> Any:
        if isinstance(value, dict):
            return {k: self._relative(v, roots, files) for k, v in value.items()}
        if isinstance(value, list):
            return [self._relative(v, roots, files) for v in value]
        if isinstance(value, str) and (found := _split(value, roots)) is not None:
            name, rel = found
            path = roots[name] / rel
            stored_as = f"{{{name}}}/{rel}"
            if path.is_file():
                files.append(stored_as)
            elif not path.is_dir():
                raise FileNotFoundError(f"step output names {path}, which does not exist")
            return stored_as
        return value

    def materialize(self, entry: Entry, roots: Roots) -> Any:
        """Copy ``entry``'s files to their places under ``roots`` (each replaced whole) and return
        its output with its paths there.

        Raises:
            KeyError: the entry names a root that ``roots`` has not.
        """
        for stored_as in entry.files:
            target = _resolve(stored_as, roots)
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.tmp")
            shutil.copyfile(entry.path / "files" / stored_as, tmp)
            os.replace(tmp, target)
        return _rebase(entry.output, roots)


def _resolve(stored_as: str, roots: Roots) -> Path:
    """``{name}/rel`` -> the path under root ``name``.

    Raises:
        ValueError: ``rel`` would leave the root (an entry is read from a store others may write).
    """
    name, _, rel = stored_as.partition("}/")
    if not _inside(rel):
        raise ValueError(f"cache entry path {stored_as!r} leaves its folder")
    return roots[name.lstrip("{")] / rel


def _inside(rel: str) -> bool:
    parts = Path(rel).parts
    return bool(parts) and not Path(rel).is_absolute() and ".." not in parts


def _rebase(value: Any, roots: Roots) -> Any:
    if isinstance(value, dict):
        return {k: _rebase(v, roots) for k, v in value.items()}
    if isinstance(value, list):
        return [_rebase(v, roots) for v in value]
    if isinstance(value, str) and value.startswith("{") and "}/" in value:
        name = value[1:value.index("}/")]
        if name in roots:
            return str(_resolve(value, roots))
    return value
