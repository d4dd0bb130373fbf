"""The step cache's storage: finished steps' outputs, content-addressed, shared by batches.

An entry is a step's output (its JSON, with the paths of the files it made written relative to the
topic's folder as ``{topic}/...``) and those files, under ``entries/<k[:2]>/<key>/``. It is built in
``tmp/`` and published by one rename, so a reader finds a whole entry or none; two workers publishing
the same key keep the first. Keys come from :func:`cache_key`: the step's identity and its input,
where a file the input names counts by its content, not by where it lies (the same step in
another batch's folder hits).

This module is the storage only: which steps are looked up and published, and when, is decided by
the engine (not wired yet: see the session notes of the CI regeneration issue).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

TOPIC = "{topic}"  # stands for the topic's folder in stored outputs
META = "meta.json"
CHUNK = 1 << 20


def file_digest(path: Path) -> str:
    """sha256 of a file's content."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(CHUNK):
            digest.update(block)
    return digest.hexdigest()


def _under(text: str, topic_dir: Path) -> str | None:
    """``text`` as a path relative to ``topic_dir``, if it is one under it."""
    if not text.startswith(str(topic_dir) + os.sep):
        return None
    return text[len(str(topic_dir)) + 1:]


def _normal(value: Any, topic_dir: Path) -> Any:
    """``value`` with each path under ``topic_dir`` made relative, a file also by its content."""
    if isinstance(value, dict):
        return {k: _normal(v, topic_dir) for k, v in sorted(value.items())}
    if isinstance(value, list):
        return [_normal(v, topic_dir) for v in value]
    if isinstance(value, str) and (rel := _under(value, topic_dir)) is not None:
        path = topic_dir / rel
        return f"{TOPIC}/{rel}@{file_digest(path)}" if path.is_file() else f"{TOPIC}/{rel}"
    return value


def cache_key(identity: dict[str, Any], step_input: Any, topic_dir: Path) -> str:
    """The key of a step: ``identity`` (job kind, step, the version of the step's code, the versions
    of the tools it runs, model and sampling settings: whatever else decides its output) and its
    input (JSON-able), with the files under ``topic_dir`` it names counted by content."""
    canonical = json.dumps({"identity": identity, "input": _normal(step_input, topic_dir)},
                           sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class Entry:
    """A published step output."""

    key: str
    output: Any  # paths under the topic folder as "{topic}/..."
    files: list[str]  # the files the output names, relative to the topic folder
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
        if not all((where / "files" / f).is_file() for f in files):
            return None
        return Entry(key=key, output=meta.get("output"), files=files,
                     produced_by=dict(meta.get("produced_by", {})), path=where)

    def publish(self, key: str, output: Any, topic_dir: Path, produced_by: dict[str, str]) -> bool:
        """Store ``output`` (a finished step's, naming files under ``topic_dir``) under ``key``.
        Returns False if an entry was already there (it is kept).

        Raises:
            FileNotFoundError: a file the output names under ``topic_dir`` does not exist (a step
                whose outputs are not all there is not cached).
        """
        if self._dir(key).is_dir():
            return False
        files: list[str] = []
        stored = self._relative(output, topic_dir, files)
        tmp = self.root / "tmp" / f"{key}.{uuid.uuid4().hex}"
        try:
            for rel in files:
                target = tmp / "files" / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(topic_dir / rel, target)
            tmp.mkdir(parents=True, exist_ok=True)
            (tmp / META).write_text(json.dumps({"key": key, "output": stored, "files": files,
                                                "produced_by": produced_by}, ensure_ascii=False),
                                    encoding="utf-8")
            final = self._dir(key)
            final.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.rename(tmp, final)  # the publication: whole, or not at all
            except OSError:
                if final.is_dir():  # another worker published it first
                    return False
                raise
            return True
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def _relative(self, value: Any, topic_dir: Path, files: list[str]) -> Any:
        if isinstance(value, dict):
            return {k: self._relative(v, topic_dir, files) for k, v in value.items()}
        if isinstance(value, list):
            return [self._relative(v, topic_dir, files) for v in value]
        if isinstance(value, str) and (rel := _under(value, topic_dir)) is not None:
            path = topic_dir / rel
            if path.is_file():
                files.append(rel)
            elif not path.is_dir():
                raise FileNotFoundError(f"step output names {path}, which does not exist")
            return f"{TOPIC}/{rel}"
        return value

    def materialize(self, entry: Entry, topic_dir: Path) -> Any:
        """Copy ``entry``'s files into ``topic_dir`` (each replaced whole) and return its output
        with the paths in ``topic_dir``."""
        for rel in entry.files:
            target = topic_dir / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.tmp")
            shutil.copyfile(entry.path / "files" / rel, tmp)
            os.replace(tmp, target)
        return _rebase(entry.output, topic_dir)


def _rebase(value: Any, topic_dir: Path) -> Any:
    if isinstance(value, dict):
        return {k: _rebase(v, topic_dir) for k, v in value.items()}
    if isinstance(value, list):
        return [_rebase(v, topic_dir) for v in value]
    if isinstance(value, str) and value.startswith(TOPIC + "/"):
        return str(topic_dir / value[len(TOPIC) + 1:])
    return value
