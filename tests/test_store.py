"""The artifact store: one contract for a local folder and an object store (a real S3 API: moto in
server mode on loopback), and the staging that lets steps work on local files either way."""

from __future__ import annotations

from pathlib import Path

import pytest

from jobs.prompt.activities import PromptActivities
from jobs.prompt.types import WriteInput
from runner.activity.staging import Staging, staging
from runner.contract.types import PlannedTopic, TopicPageRequest, TopicSpec
from runner.store.artifacts import StoreError, check_url, join, store_for
from runner.store.cache import StepCache, cache_key, digests
from runner.store.files import iter_results, load_result, write_json_atomic
from runner.store.topics import ids_at, iter_topics, read_page, write_topics
from tests.conftest import S3


@pytest.fixture(params=["local", "s3"])
def where(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A folder to write artifacts under: a local one, or a prefix in a new bucket."""
    if request.param == "local":
        return str(tmp_path / "out")
    bucket: S3 = request.getfixturevalue("s3")
    return bucket.url("runs", "b1")


def test_writes_reads_lists_and_deletes(where: str, tmp_path: Path) -> None:
    store = store_for(where)
    path = join(where, "topics", "t1", "result.json")
    assert store.info(path) is None and not store.is_file(path)
    store.write_text(path, "hello\n")
    assert store.read_text(path) == "hello\n"
    assert store.info(path) is not None and store.info(path).size == 6  # type: ignore[union-attr]
    assert store.is_dir(join(where, "topics")) and not store.is_dir(join(where, "nothing"))
    local = tmp_path / "video.mp4"
    local.write_bytes(b"\x00" * 3000)
    store.put_file(local, join(where, "v.mp4"))
    store.get_file(join(where, "v.mp4"), tmp_path / "back" / "v.mp4")
    assert (tmp_path / "back" / "v.mp4").read_bytes() == local.read_bytes()
    assert {f.path: f.size for f in store.files(where)} == {path: 6, join(where, "v.mp4"): 3000}
    with store.open_read(path) as f:
        f.seek(2)
        assert f.readline() == b"llo\n"
    store.delete(path)
    store.delete(path)  # gone already: nothing happens
    assert not store.is_file(path)
    store.check_writable(where)
    assert [f.path for f in store.files(where)] == [join(where, "v.mp4")]  # the probe is gone


def test_a_failed_write_publishes_nothing_and_keeps_the_old_file(where: str) -> None:
    store = store_for(where)
    path = join(where, "report.json")
    store.write_text(path, "old\n")
    with pytest.raises(RuntimeError), store.writing(path) as tmp:
        tmp.write_text("half a fi")
        raise RuntimeError("the writer died")
    assert store.read_text(path) == "old\n"
    with store.writing(join(where, "results.jsonl")) as tmp, tmp.open("w") as out:
        out.write('{"id": "t1", "status": "succeeded"}\n')
    assert list(iter_results(where)) == [{"id": "t1", "status": "succeeded"}]
    assert [f.path for f in store.files(where)] == [path, join(where, "results.jsonl")]


def test_topic_pages_and_result_files(where: str) -> None:
    topics = [PlannedTopic(spec=TopicSpec(id=f"t{i}", topic=f"topic {i}", models={})) for i in range(50)]
    file = write_topics(where, topics)
    assert file.path.startswith(where) and file.total == 50
    assert [t.spec.id for _, t in iter_topics(file.path)] == [f"t{i}" for i in range(50)]
    page = read_page(TopicPageRequest(path=file.path, offset=0, index=0, max_items=20, max_bytes=10**6))
    assert [i.spec.id for i in page.items] == [f"t{i}" for i in range(20)] and not page.eof
    rest = read_page(TopicPageRequest(path=file.path, offset=page.offset, index=page.index,
                                      max_items=100, max_bytes=10**6))
    assert [i.spec.id for i in rest.items] == [f"t{i}" for i in range(20, 50)] and rest.eof
    assert ids_at(file.path, [rest.items[5].offset, page.items[3].offset]) == ["t25", "t3"]
    result = join(where, "topics", "t1", "result.json")
    assert load_result(result) is None
    write_json_atomic(result, {"id": "t1", "topic": "topic 1", "status": "succeeded"})
    loaded = load_result(result)
    assert loaded is not None and loaded.id == "t1"


def test_urls_that_cannot_work_are_refused() -> None:
    assert check_url("s3://bucket/prefix/") == "s3://bucket/prefix"
    for url, says in [("s3://AKIA:secret@bucket/p", "credentials"), ("s3://bucket/p?x=1", "query"),
                      ("nosuch://bucket/p", "unknown storage protocol"), ("s3:///p", "bucket"),
                      ("file:///tmp/x", "local folder")]:
        with pytest.raises(StoreError, match=says):
            check_url(url)


def test_a_missing_bucket_is_an_error(s3: S3) -> None:
    with pytest.raises(FileNotFoundError):
        store_for("s3://no-such-bucket-here/x").check_writable("s3://no-such-bucket-here/x")


def test_staging_mirrors_the_store_and_publishes_what_the_output_names(s3: S3, tmp_path: Path) -> None:
    store = store_for(s3.url())
    store.write_text(s3.url("out", "in.txt"), "input\n")
    stage = Staging(tmp_path / "scratch")
    local = stage.local(s3.url("out", "in.txt"))
    assert Path(local) == tmp_path / "scratch" / "s3" / s3.bucket / "out" / "in.txt"
    assert stage.remote(local) == s3.url("out", "in.txt")
    assert stage.fetch(local) and Path(local).read_text() == "input\n"
    assert not stage.fetch(stage.local(s3.url("out", "missing.mp4")))
    stage.publish(local)  # fetched and unchanged: not uploaded again
    Path(local).write_text("changed\n")
    stage.publish(local)
    assert store.read_text(s3.url("out", "in.txt")) == "changed\n"
    with pytest.raises(ValueError, match=r"'\.\.'"):
        stage.local(s3.url("out", "..", "..", "etc"))


async def test_a_step_writes_to_the_store_through_local_files(s3: S3, monkeypatch: pytest.MonkeyPatch,
                                                               tmp_path: Path) -> None:
    monkeypatch.setenv("RUNNER_HOME", str(tmp_path / "home"))
    out = await PromptActivities().write(WriteInput(path=s3.url("out", "t1.md"), text="an answer"))
    assert out.path == s3.url("out", "t1.md") and out.bytes == len("an answer\n")
    assert s3.keys() == {"out/t1.md": len("an answer\n")}
    assert list((tmp_path / "home" / "scratch").iterdir()) == []  # the step's scratch is gone
    with staging() as stage:
        assert stage.scratch.is_dir()
    assert not stage.scratch.exists()


def test_the_step_cache_in_a_bucket(s3: S3, tmp_path: Path) -> None:
    """Entries published to an object store: files first, meta.json last (by conditional write:
    the first publisher keeps the key); a hit copies the files to another machine's folder."""
    a = tmp_path / "a" / "topics" / "t1"
    (a / "scenes").mkdir(parents=True)
    (a / "scenes" / "s1.mp4").write_bytes(b"a video" * 1000)
    roots = {"topic": str(a), "output": str(a.parent.parent)}
    video = str(a / "scenes" / "s1.mp4")
    cache = StepCache(s3.url("cache"))
    key = cache_key({"step": "render"}, {"scene": video}, roots)
    assert cache.lookup(key) is None
    made = digests({"video": video}, roots)
    assert cache.publish(key, {"video": video}, roots, {"batch": "b1"}, expect=made)
    assert not cache.publish(key, {"video": video}, roots, {"batch": "b2"})  # the first one stays
    keys = s3.keys("cache/")
    assert sum(k.endswith("/meta.json") for k in keys) == 1 and len(keys) == 2  # the loser's files went
    b = tmp_path / "b" / "topics" / "t1"
    entry = cache.lookup(key)
    assert entry is not None and entry.produced_by == {"batch": "b1"}
    out = cache.materialize(entry, {"topic": str(b), "output": str(b.parent.parent)})
    assert out == {"video": str(b / "scenes" / "s1.mp4")}
    assert (b / "scenes" / "s1.mp4").read_bytes() == b"a video" * 1000
    assert cache.publish(key, {"video": video}, roots, {"batch": "b3"}, replace=True)
    entry = cache.lookup(key)
    assert entry is not None and entry.produced_by == {"batch": "b3"} and len(s3.keys("cache/")) == 2
    cache.index_put("t" * 64, {"steps": []})
    assert cache.index_get("t" * 64) == {"steps": []}
