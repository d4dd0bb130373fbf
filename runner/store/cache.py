"""The step cache's storage: finished steps' outputs, content-addressed, shared by batches.

An entry is a step's output (its JSON, with the paths of the files it made written relative to the
folders they lie in, e.g. ``{topic}/scenes/s1.mp4`` for the topic's folder, ``{output}/t1.mp4`` for
the batch's) and those files, under ``entries/<k[:2]>/<key>/`` of the cache's folder or object
store URL. Its files are written first and its ``meta.json`` last, so a reader finds a whole entry or
none; two workers publishing the same key keep the first. Keys come from :func:`cache_key`: the
step's identity and its input, where a file the input names counts by its content, not by where it
lies (the same step in another batch's folder hits).

This module is the storage only. The engine decides what is looked up and published, and when:
LLM answers (looked up by the LLM activity before it calls a model) and the outputs of the job
steps that name their code (looked up by the step-activity decorator, :mod:`runner.activity.step`);
both are published by the topic's result write for the outputs the workflow kept, so a rejected
answer or a failed step never is. :mod:`runner.store.identity` says what besides the input goes
into a step's key.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runner.contract.types import TopicSpec
from runner.store.artifacts import is_url, join, store_for

META = "meta.json"
IDENTITY_CHARS = 16
Roots = dict[str, str]  # name -> folder (a path or a store URL); a path under it is stored as "{name}/rel"
CHUNK = 1 << 20


def file_digest(path: str | Path) -> str:
    """sha256 of a file's content (a local path or a store URL)."""
    digest = hashlib.sha256()
    with store_for(str(path)).open_read(str(path)) as f:
        while block := f.read(CHUNK):
            digest.update(block)
    return digest.hexdigest()


def _split(text: str, roots: Roots) -> tuple[str, str] | None:
    """``text`` as (root name, path relative to it) for the deepest root it lies under, or None."""
    best: tuple[str, str] | None = None
    depth = -1
    for name, root in roots.items():
        if text == root:  # the folder itself
            return name, ""
        prefix = root.rstrip("/") + "/"
        if text.startswith(prefix) and len(prefix) > depth and _inside(text[len(prefix):]):
            best, depth = (name, text[len(prefix):]), len(prefix)
    return best


def roots_of(folders: dict[str, str]) -> Roots:
    """Roots as they travel (name -> folder), without trailing slashes."""
    return {name: folder.rstrip("/") or "/" for name, folder in folders.items()}


def _strings(value: Any, leaf: Callable[[str], Any]) -> Any:
    """``value`` (JSON-like) with ``leaf`` applied to every string in it."""
    if isinstance(value, dict):
        return {k: _strings(v, leaf) for k, v in value.items()}
    if isinstance(value, list):
        return [_strings(v, leaf) for v in value]
    return leaf(value) if isinstance(value, str) else value


def _normal(value: Any, roots: Roots, content: bool = True) -> Any:
    """``value`` with each path under a root made relative to it, a file also by its content
    (unless not ``content``: a place the step writes to counts by its place only)."""
    def leaf(text: str) -> str:
        if (found := _split(text, roots)) is None:
            return text
        name, rel = found
        if not rel:
            return f"{{{name}}}"
        path = join(roots[name], rel)
        return f"{{{name}}}/{rel}@{file_digest(path)}" if content and store_for(path).is_file(path) \
            else f"{{{name}}}/{rel}"
    return _strings(value, leaf)


def identity_digest(identity: dict[str, Any]) -> str:
    """A short hash of a step's identity: the first part of its keys."""
    canonical = json.dumps(identity, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()[:IDENTITY_CHARS]


def cache_key(identity: dict[str, Any], step_input: Any, roots: Roots,
              destinations: dict[str, Any] | None = None) -> str:
    """The key of a step: ``identity`` (job kind, step, the version of the step's code, the versions
    of the tools it runs, model and sampling settings: whatever else decides its output) and its
    input (JSON-able), with the files under ``roots`` it names counted by content, not place; the
    ``destinations`` (parts of the input that say where the step writes) count by place only.

    It starts with :func:`identity_digest` of ``identity``, so whoever knows only a key can tell
    whether today's code and tools would still look it up (``runner plan``)."""
    canonical = json.dumps({"identity": identity, "input": _normal(step_input, roots),
                            "to": _normal(destinations or {}, roots, content=False)},
                           sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return identity_digest(identity) + hashlib.sha256(canonical.encode()).hexdigest()[:48]


def topic_key(job: str, spec: TopicSpec) -> str:
    """The key of a topic in the cache's index: its job kind and what it asks for (id, text, job
    options, model chains; not the step policies, which decide how steps run, not what they make)."""
    canonical = json.dumps({"job": job, "spec": spec.model_dump(mode="json", exclude={"steps"})},
                           sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


class ChangedFile(OSError):
    """A step's file is not what the step made: its output is not cached."""


def digests(output: Any, roots: Roots) -> dict[str, str]:
    """sha256 of every file under ``roots`` that ``output`` names (path -> digest)."""
    found: dict[str, str] = {}

    def leaf(text: str) -> str:
        if _split(text, roots) is not None and store_for(text).is_file(text):
            found[text] = file_digest(text)
        return text

    _strings(output, leaf)
    return found


@dataclass(frozen=True)
class Entry:
    """A published step output."""

    key: str
    output: Any  # paths under a root as "{name}/..."
    files: list[str]  # the files the output names, as "{name}/rel"
    produced_by: dict[str, str]  # batch, run, topic, step, at: where it was made
    path: str  # the entry's folder
    files_at: str  # the folder its files lie in


class StepCache:
    """Entries under ``root``: a folder (by default ``$RUNNER_HOME/cache``) or an object store URL.

    An entry's files are written first, under a publication id of their own
    (``entries/<k[:2]>/<key>/<id>/...``), and its ``meta.json``, which names that id, last: a
    reader finds a whole entry or none, on a file system and on an object store alike.
    """

    def __init__(self, root: str | Path) -> None:
        self.root = str(root).rstrip("/")
        self.store = store_for(self.root)

    def _dir(self, key: str) -> str:
        return join(self.root, "entries", key[:2], key)

    def lookup(self, key: str) -> Entry | None:
        """The entry of ``key``, or None (also when a file of it has gone missing)."""
        where = self._dir(key)
        try:
            meta = json.loads(self.store.read_bytes(join(where, META)))
        except (OSError, ValueError):
            return None
        files = [str(f) for f in meta.get("files", [])]
        pub = str(meta.get("pub") or "files")  # entries of runner <= 0.14 kept theirs in files/
        if not _inside(pub) or "/" in pub:
            return None
        files_at = join(where, pub)
        if not all(_inside(f.partition("}/")[2]) and self.store.is_file(join(files_at, f)) for f in files):
            return None  # a file gone, or a path out of its folder (the store is shared)
        return Entry(key=key, output=meta.get("output"), files=files,
                     produced_by=dict(meta.get("produced_by", {})), path=where, files_at=files_at)

    def publish(self, key: str, output: Any, roots: Roots, produced_by: dict[str, str], *,
                replace: bool = False, expect: dict[str, str] | None = None) -> bool:
        """Store ``output`` (a finished step's, naming files under ``roots``) under ``key``.
        Returns False if an entry was already there (it is kept, unless ``replace``: then a reader
        finds the old entry or the new one; never a mix).

        Raises:
            FileNotFoundError: a path the output names under a root does not exist (a step whose
                outputs are not all there is not cached).
            ChangedFile: ``expect`` (path -> sha256, from :func:`digests`) says a file was
                different when the step made it (a later step of the topic wrote over it).
        """
        where = self._dir(key)
        old = self._pub(where)
        if old is not None and not replace:
            return False
        files: list[str] = []
        stored = self._relative(output, roots, files)
        pub = uuid.uuid4().hex[:16]
        try:
            with tempfile.TemporaryDirectory(prefix="runner-cache-") as scratch:
                for n, stored_as in enumerate(files):
                    source = _resolve(stored_as, roots)
                    local = Path(scratch) / str(n)
                    store_for(source).get_file(source, local)
                    if expect is not None and expect.get(source) != file_digest(local):
                        raise ChangedFile(f"{source} changed after the step made it")
                    self.store.put_file(local, join(where, pub, stored_as))
        except BaseException:
            self.store.delete_tree(join(where, pub))
            raise
        meta = json.dumps({"key": key, "pub": pub, "output": stored, "files": files,
                           "produced_by": produced_by}, ensure_ascii=False).encode()
        # the publication: whole, or not at all
        if replace:
            self.store.write_bytes(join(where, META), meta)
        elif not self.store.create_bytes(join(where, META), meta):  # another worker was first
            self.store.delete_tree(join(where, pub))
            return False
        if old is not None and old != pub:
            self.store.delete_tree(join(where, old))
        return True

    def _pub(self, where: str) -> str | None:
        """The publication id of the entry in ``where`` (None: no entry)."""
        try:
            meta = json.loads(self.store.read_bytes(join(where, META)))
        except (OSError, ValueError):
            return None
        return str(meta.get("pub") or "files")

    @staticmethod
    def _relative(value: Any, roots: Roots, files: list[str]) -> Any:
        def leaf(text: str) -> str:
            if (found := _split(text, roots)) is None:
                return text
            name, rel = found
            if not rel:
                return f"{{{name}}}"
            path = join(roots[name], rel)
            stored_as = f"{{{name}}}/{rel}"
            store = store_for(path)
            if store.is_file(path):
                files.append(stored_as)
            elif not store.is_dir(path):
                raise FileNotFoundError(f"step output names {path}, which does not exist")
            return stored_as
        return _strings(value, leaf)

    def _index(self, key: str) -> str:
        return join(self.root, "index", key[:2], f"{key}.json")

    def index_get(self, key: str) -> dict[str, Any] | None:
        """What the last succeeded run of a topic (:func:`topic_key`) recorded, or None."""
        try:
            found = json.loads(self.store.read_bytes(self._index(key)))
        except (OSError, ValueError):
            return None
        return found if isinstance(found, dict) else None

    def index_put(self, key: str, record: dict[str, Any]) -> None:
        """Record a topic's steps (whole; the last writer wins)."""
        self.store.write_text(self._index(key), json.dumps(record, ensure_ascii=False))

    def materialize(self, entry: Entry, roots: Roots) -> Any:
        """Copy ``entry``'s files to their places under ``roots`` (each replaced whole) and return
        its output with its paths there.

        Raises:
            KeyError: the entry names a root that ``roots`` has not.
        """
        for stored_as in entry.files:
            target = _resolve(stored_as, roots)
            source = join(entry.files_at, stored_as)
            if not is_url(target):
                self.store.get_file(source, Path(target))
            elif not self.store.remote:
                store_for(target).put_file(Path(source), target)
            else:
                with tempfile.TemporaryDirectory(prefix="runner-cache-") as scratch:
                    self.store.get_file(source, Path(scratch) / "f")
                    store_for(target).put_file(Path(scratch) / "f", target)
        return _rebase(entry.output, roots)


def _resolve(stored_as: str, roots: Roots) -> str:
    """``{name}/rel`` -> the path under root ``name``.

    Raises:
        ValueError: ``rel`` would leave the root (an entry is read from a store others may write).
    """
    name, _, rel = stored_as.partition("}/")
    if not _inside(rel):
        raise ValueError(f"cache entry path {stored_as!r} leaves its folder")
    return join(roots[name.lstrip("{")], rel)


def _inside(rel: str) -> bool:
    parts = Path(rel).parts
    return bool(parts) and not Path(rel).is_absolute() and ".." not in parts


def _rebase(value: Any, roots: Roots) -> Any:
    def leaf(text: str) -> str:
        if text.startswith("{") and text.endswith("}") and text[1:-1] in roots:  # the folder itself
            return roots[text[1:-1]]
        if text.startswith("{") and "}/" in text and text[1:text.index("}/")] in roots:
            return _resolve(text, roots)
        return text
    return _strings(value, leaf)
