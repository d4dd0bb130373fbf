"""The step cache's storage and keys (runner.store.cache, runner.store.identity): keys that follow
content, not folders, and a step's own code and tools; entries published whole or not at all; a hit
copied into another topic's folder."""

from __future__ import annotations

import json
import threading
from dataclasses import replace
from importlib.metadata import version
from pathlib import Path

import pytest

from runner.contract.jobkind import Step
from runner.store.cache import ChangedFile, StepCache, cache_key, digests
from runner.store.identity import source_version, step_identity

ID = {"job": "explainer", "step": "render", "code": "v1", "tools": {"manim": "0.19"}}


def topic(tmp_path: Path, name: str, video: bytes = b"frames") -> Path:
    folder = tmp_path / name / "topics" / "t1"
    (folder / "scenes").mkdir(parents=True)
    (folder / "scenes" / "s1.py").write_text("class S1: pass\n")
    (folder / "scenes" / "s1.mp4").write_bytes(video)
    return folder


def render_input(folder: Path) -> dict[str, object]:
    return {"scene": str(folder / "scenes" / "s1.py"), "quality": "low"}


def roots(folder: Path) -> dict[str, str]:
    return {"topic": str(folder), "output": str(folder.parent.parent)}


def test_a_key_follows_the_content_of_the_files_not_their_folder(tmp_path: Path) -> None:
    a, b = topic(tmp_path, "a"), topic(tmp_path, "b")
    ra, rb = roots(a), roots(b)
    assert cache_key(ID, render_input(a), ra) == cache_key(ID, render_input(b), rb)
    (b / "scenes" / "s1.py").write_text("class S1: changed\n")
    assert cache_key(ID, render_input(a), ra) != cache_key(ID, render_input(b), rb)
    assert cache_key(ID, render_input(a), ra) != cache_key({**ID, "code": "v2"}, render_input(a), ra)
    assert cache_key(ID, render_input(a), ra) != cache_key(ID, {**render_input(a), "quality": "high"}, ra)


def test_an_entry_made_in_one_topic_folder_is_found_and_copied_into_another(tmp_path: Path) -> None:
    cache = StepCache(tmp_path / "cache")
    a, b = topic(tmp_path, "a"), topic(tmp_path, "b", video=b"")
    key = cache_key(ID, render_input(a), roots(a))
    (tmp_path / "a" / "t1.mp4").write_bytes(b"merged")  # a deliverable in the batch's folder
    output = {"video": str(a / "scenes" / "s1.mp4"), "seconds": 2.5, "dir": str(a / "scenes"),
              "final": str(tmp_path / "a" / "t1.mp4"), "elsewhere": "/usr/bin/ffmpeg"}
    assert cache.lookup(key) is None
    assert cache.publish(key, output, roots(a), {"batch": "x-1", "topic": "t1", "step": "render"})
    assert not cache.publish(key, output, roots(a), {"batch": "x-2"})  # the first entry stays
    entry = cache.lookup(key)
    assert entry is not None and entry.produced_by["batch"] == "x-1"
    (b / "scenes" / "s1.mp4").unlink()
    got = cache.materialize(entry, roots(b))
    assert got == {"video": str(b / "scenes" / "s1.mp4"), "seconds": 2.5, "dir": str(b / "scenes"),
                   "final": str(tmp_path / "b" / "t1.mp4"), "elsewhere": "/usr/bin/ffmpeg"}
    assert (b / "scenes" / "s1.mp4").read_bytes() == b"frames"
    assert (tmp_path / "b" / "t1.mp4").read_bytes() == b"merged"


def test_an_entry_cannot_write_outside_its_folders(tmp_path: Path) -> None:
    cache = StepCache(tmp_path / "cache")
    a = topic(tmp_path, "a")
    key = cache_key(ID, render_input(a), roots(a))
    assert cache.publish(key, {"video": str(a / "scenes" / "s1.mp4")}, roots(a), {})
    entry = cache.lookup(key)
    assert entry is not None
    meta = json.loads((Path(entry.path) / "meta.json").read_text())  # a store someone else wrote
    meta["files"] = ["{topic}/../../../escaped.mp4"]
    (Path(entry.path) / "meta.json").write_text(json.dumps(meta))
    assert cache.lookup(key) is None  # taken for a miss
    forged = replace(entry, files=["{topic}/../../../escaped.mp4"])
    with pytest.raises(ValueError, match="leaves its folder"):
        cache.materialize(forged, roots(a))
    assert not list(tmp_path.rglob("escaped.mp4"))
    # a path that climbs out of a root is not taken for one under it
    climbing = {"p": str(a) + "/../../x"}
    assert cache_key(ID, climbing, roots(a)) == cache_key(ID, climbing, {})


def test_no_half_entry_is_ever_found(tmp_path: Path) -> None:
    cache = StepCache(tmp_path / "cache")
    a = topic(tmp_path, "a")
    key = cache_key(ID, render_input(a), roots(a))
    with pytest.raises(FileNotFoundError):  # an output naming a file that is not there
        cache.publish(key, {"video": str(a / "scenes" / "missing.mp4")}, roots(a), {})
    assert cache.lookup(key) is None and not list((tmp_path / "cache").rglob("meta.json"))
    # a crash between copy and publication leaves files without a meta.json: invisible
    dead = tmp_path / "cache" / "entries" / key[:2] / key / "deadbeef" / "{topic}" / "scenes" / "s1.mp4"
    dead.parent.mkdir(parents=True)
    dead.write_bytes(b"half")
    assert cache.lookup(key) is None
    assert cache.publish(key, {"video": str(a / "scenes" / "s1.mp4")}, roots(a), {})
    entry = cache.lookup(key)
    assert entry is not None
    (Path(entry.files_at) / "{topic}" / "scenes" / "s1.mp4").unlink()  # a file lost from the store
    assert cache.lookup(key) is None


def test_publishers_racing_for_one_key_leave_one_whole_entry(tmp_path: Path) -> None:
    cache = StepCache(tmp_path / "cache")
    a = topic(tmp_path, "a", video=b"x" * 2_000_000)
    key = cache_key(ID, render_input(a), roots(a))
    won: list[bool] = []
    threads = [threading.Thread(target=lambda: won.append(
        cache.publish(key, {"video": str(a / "scenes" / "s1.mp4")}, roots(a), {"n": "1"})))
        for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert won.count(True) == 1
    entry = cache.lookup(key)
    assert entry is not None
    assert (Path(entry.files_at) / "{topic}" / "scenes" / "s1.mp4").stat().st_size == 2_000_000
    assert json.loads((Path(entry.path) / "meta.json").read_text())["key"] == key
    # the losers cleaned up: the entry's meta.json and the files of its publication, nothing else
    assert sorted(p.name for p in Path(entry.path).iterdir()) == sorted(["meta.json",
                                                                         Path(entry.files_at).name])


def test_a_refreshed_entry_replaces_the_old_one(tmp_path: Path) -> None:
    cache = StepCache(tmp_path / "cache")
    a = topic(tmp_path, "a")
    assert cache.publish("k" * 64, {"text": "old"}, roots(a), {"batch": "1"})
    assert cache.publish("k" * 64, {"text": "new"}, roots(a), {"batch": "2"}, replace=True)
    entry = cache.lookup("k" * 64)
    assert entry is not None and (entry.output, entry.produced_by) == ({"text": "new"}, {"batch": "2"})
    assert [p.name for p in Path(entry.path).iterdir()] == ["meta.json"]  # the old files are gone


def test_where_a_step_writes_counts_by_place_not_by_what_is_there(tmp_path: Path) -> None:
    folder = topic(tmp_path, "a")
    out = {"output": str(folder.parent.parent / "t1.mp4")}
    before = cache_key(ID, render_input(folder), roots(folder), out)
    (folder.parent.parent / "t1.mp4").write_bytes(b"an earlier merge")
    assert cache_key(ID, render_input(folder), roots(folder), out) == before
    # ... while a file the step reads counts by its content
    assert cache_key(ID, {**render_input(folder), **out}, roots(folder)) != before


def test_a_step_identity_follows_its_own_code_and_tools(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    package = tmp_path / "kindpkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    source = ("class Acts:\n    async def render(self):\n        return 1\n\n"
              "    async def merge(self):\n        return 2\n")
    (package / "acts.py").write_text(source)
    monkeypatch.syspath_prepend(str(tmp_path))
    render = Step("render", code=("kindpkg.acts:Acts.render",), packages=("pydantic", "no-such-dist"),
                  programs=("no-such-program --version",))

    def identity() -> dict[str, object]:
        source_version.cache_clear()
        return step_identity("kind", render)

    first = identity()
    assert first["packages"] == {"pydantic": version("pydantic"), "no-such-dist": "missing"}
    assert first["programs"] == {"no-such-program --version": "missing"}
    (package / "acts.py").write_text(source.replace("return 2", "return 3"))  # another method
    assert identity() == first
    (package / "acts.py").write_text(source.replace("return 1", "return 4"))  # its own
    assert identity()["code"] != first["code"]
    with pytest.raises(ValueError, match="not defined there"):
        step_identity("kind", replace(render, code=("kindpkg.acts:Acts.nothing",)))


def test_a_file_changed_after_its_step_is_never_published(tmp_path: Path) -> None:
    folder = topic(tmp_path, "a")
    video = str(folder / "scenes" / "s1.mp4")
    made = digests({"videos": [video]}, roots(folder))
    assert list(made) == [video]
    (folder / "scenes" / "s1.mp4").write_bytes(b"what a later step wrote")
    cache = StepCache(tmp_path / "cache")
    with pytest.raises(ChangedFile):
        cache.publish("k" * 64, {"videos": [video]}, roots(folder), {}, expect=made)
    assert cache.lookup("k" * 64) is None
    assert [p for p in (tmp_path / "cache").rglob("*") if p.is_file()] == []  # nothing left of it
    assert cache.publish("k" * 64, {"videos": [video]}, roots(folder), {},
                         expect=digests({"videos": [video]}, roots(folder)))
