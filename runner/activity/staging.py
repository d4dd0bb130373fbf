"""A step's artifacts on an object store, seen as local files (the claim-check pattern).

The fields of a step's input and output typed :data:`runner.contract.artifacts.Artifact` are
store paths as they travel through Temporal. When one is a URL, the step-activity decorator makes
a :class:`Staging`: a scratch folder of the step's own (under ``$RUNNER_HOME/scratch``) that mirrors
the store, ``s3://bucket/key`` at ``<scratch>/s3/bucket/key``. The input's artifacts are downloaded
there (files the store has; the folders of the others are created), the step runs on those local
paths, and the files its output names are uploaded, each in one PUT, before the step completes;
the output travels on with store URLs again. The scratch folder is removed when the step ends.

With local paths nothing is staged: the step reads and writes the files themselves.
"""

from __future__ import annotations

import os
import shutil
import typing
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel

from runner.config.home import runner_home
from runner.contract.artifacts import ARTIFACT
from runner.store.artifacts import URL, is_url, store_for

M = TypeVar("M", bound=BaseModel)


def _is_artifact(annotation: Any) -> bool:
    """Whether ``annotation`` is ``Artifact`` or a list/tuple/optional of it."""
    if ARTIFACT in getattr(annotation, "__metadata__", ()):
        return True
    return any(_is_artifact(a) for a in typing.get_args(annotation) if a is not type(None))


def map_artifacts(model: M, leaf: Callable[[str], str]) -> M:
    """A copy of ``model`` with ``leaf`` applied to every artifact path in it (nested models too)."""
    update: dict[str, Any] = {}
    for field, info in type(model).model_fields.items():
        value = getattr(model, field)
        if value is None:
            continue
        if _is_artifact(info.annotation) or any(m is ARTIFACT for m in info.metadata):
            update[field] = _apply(value, leaf)
        elif isinstance(value, BaseModel):
            update[field] = map_artifacts(value, leaf)
        elif isinstance(value, list) and any(isinstance(v, BaseModel) for v in value):
            update[field] = [map_artifacts(v, leaf) if isinstance(v, BaseModel) else v for v in value]
    return model.model_copy(update=update) if update else model


def _apply(value: Any, leaf: Callable[[str], str]) -> Any:
    if isinstance(value, str):
        return leaf(value)
    if isinstance(value, list | tuple):
        return type(value)(_apply(v, leaf) for v in value)
    return value


def artifact_paths(model: BaseModel) -> list[str]:
    """Every artifact path ``model`` names."""
    found: list[str] = []

    def leaf(path: str) -> str:
        found.append(path)
        return path

    map_artifacts(model, leaf)
    return found


class Staging:
    """A step's local mirror of the store (see the module docstring)."""

    def __init__(self, scratch: Path) -> None:
        self.scratch = scratch
        self._known: dict[Path, tuple[int, int]] = {}  # local file -> (size, mtime_ns) as in the store

    def local(self, path: str) -> str:
        """Where the store path ``path`` lies in the mirror (a local path stays as it is)."""
        found = URL.match(path)
        if not found:
            return path
        rest = path[found.end():].strip("/")
        if any(part in ("", ".", "..") for part in rest.split("/")):
            raise ValueError(f"artifact path {path!r}: empty, '.' or '..' parts")
        return str(self.scratch / found.group(1).lower() / rest)

    def remote(self, local: str) -> str | None:
        """The store URL of a path in the mirror (None: not in it)."""
        try:
            rel = Path(local).relative_to(self.scratch)
        except ValueError:
            return None
        protocol, *rest = rel.parts
        return f"{protocol}://{'/'.join(rest)}" if rest else None

    def _stamp(self, path: Path) -> tuple[int, int]:
        st = path.stat()
        return st.st_size, st.st_mtime_ns

    def fetch(self, path: str) -> bool:
        local = Path(path)
        if local.is_file() and local.stat().st_size > 0:
            return True
        url = self.remote(path)
        if url is None:
            return False
        store = store_for(url)
        info = store.info(url)
        if info is None or info.size == 0:
            return False
        store.get_file(url, local)
        self._known[local] = self._stamp(local)
        return True

    def publish(self, path: str) -> None:
        local = Path(path)
        url = self.remote(path)
        if url is None or not local.is_file() or self._known.get(local) == self._stamp(local):
            return  # not the store's, not a file, or what the store has already
        store_for(url).put_file(local, url)
        self._known[local] = self._stamp(local)

    def stage_in(self, model: M) -> M:
        """``model`` with its artifacts as mirror paths: files the store has are downloaded, the
        folders of the others made (a step may write there)."""
        def leaf(path: str) -> str:
            local = self.local(path)
            if local != path:
                if not self.fetch(local):
                    Path(local).parent.mkdir(parents=True, exist_ok=True)
            return local
        return map_artifacts(model, leaf)

    def stage_out(self, model: M) -> M:
        """``model`` with its mirror paths as store URLs, every file it names published first."""
        def leaf(path: str) -> str:
            url = self.remote(path)
            if url is None:
                return path
            self.publish(path)
            return url
        return map_artifacts(model, leaf)


def needs_staging(model: BaseModel, roots: dict[str, str] | None = None) -> bool:
    """Whether any artifact ``model`` names (or a cache root) lies in an object store."""
    return any(is_url(p) for p in [*artifact_paths(model), *(roots or {}).values()])


def scratch_root() -> Path:
    return runner_home() / "scratch"


@contextmanager
def staging() -> Iterator[Staging]:
    """A staging in a scratch folder of its own (named by this process's pid), removed afterwards."""
    scratch = scratch_root() / f"{os.getpid()}-{uuid.uuid4().hex[:12]}"
    scratch.mkdir(parents=True, exist_ok=True)
    try:
        yield Staging(scratch)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def remove_stale_scratch() -> int:
    """Remove the scratch folders of processes that are gone (a worker killed mid-step leaves its
    folder behind); returns how many. Those of running processes are kept."""
    removed = 0
    root = scratch_root()
    for folder in root.iterdir() if root.is_dir() else ():
        pid = folder.name.partition("-")[0]
        if pid.isdigit() and not Path(f"/proc/{pid}").exists():
            shutil.rmtree(folder, ignore_errors=True)
            removed += 1
    return removed
