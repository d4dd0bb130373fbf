"""The report at sizes where per-topic detail must stay out of report.json and report.md (no server:
the report activity's code on result files written here)."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

import pytest

from runner.activity.report import DETAIL_TOPICS, TABLE_TOPICS, write_report
from runner.contract.jobkind import TopicOutputs
from runner.contract.keys import spec_key
from runner.contract.names import result_path, topic_dir
from runner.contract.types import (
    PlannedTopic,
    ReportInput,
    TopicPage,
    TopicPageRequest,
    TopicResult,
    TopicSpec,
)
from runner.store.files import iter_results, write_json_atomic
from runner.store.topics import read_page, write_topics


def batch(tmp_path: Path, n: int, *, failing_every: int = 0, missing: tuple[int, ...] = (),
          cancelled: bool = False, started: int = -1) -> ReportInput:
    specs = [TopicSpec(id=f"t{i}", topic=f"topic {i}", models={}) for i in range(n)]
    file = write_topics(tmp_path, (PlannedTopic(spec=s) for s in specs))
    for i, spec in enumerate(specs):
        if i in missing:
            continue
        failed = failing_every and i % failing_every == 0
        result = TopicResult(id=spec.id, topic=spec.topic, status="failed" if failed else "succeeded",
                             error="boom\nsecond line" if failed else None, spec_key=spec_key(spec),
                             failed_step="answer" if failed else None)
        path = Path(result_path(topic_dir(str(tmp_path), spec.id)))
        path.parent.mkdir(parents=True)
        path.write_text(result.model_dump_json())
    return ReportInput(batch_id="b", name="b", job="k", manifest="m.yaml", output_dir=str(tmp_path),
                       started_at="2026-01-01T00:00:00+00:00", finished_at="2026-01-01T00:01:40+00:00",
                       topics_file=file.path, cancelled=cancelled, started=started)


def test_a_big_report_is_a_summary_with_every_topic_in_results_jsonl(tmp_path: Path) -> None:
    n = TABLE_TOPICS + 500
    beats: list[int] = []
    out = asyncio.run(write_report(batch(tmp_path, n, failing_every=100), TopicOutputs, beats.append))
    assert (out.total, out.succeeded, out.failed) == (n, n - 25, 25)
    rows = list(iter_results(tmp_path))
    assert [r["id"] for r in rows] == [f"t{i}" for i in range(n)]
    assert len(beats) >= n // 500 and beats == sorted(beats)  # heartbeats between pages
    summary = json.loads(Path(out.report_json).read_text())
    assert "topics" not in summary and summary["results"] == "results.jsonl"
    assert summary["totals"]["topics"] == n and len(summary["failures"]) == 25
    assert summary["failures"][0] == {"id": "t0", "topic": "topic 0", "status": "failed",
                                      "failed_step": "answer", "error": "boom"}
    md = Path(out.report_md).read_text()
    assert md.index("## Failures") < md.index("## Topics")
    table = [line for line in md.splitlines() if re.match(r"\| t\d+ \|", line)]
    failures_table, topics_table = table[:25], table[25:]
    assert all("| failed |" in line for line in failures_table)
    # the first TABLE_TOPICS topics, then only the failed ones; no per-topic sections
    assert len(topics_table) == TABLE_TOPICS + 5 and "## t0:" not in md
    assert len(md) < 400_000 and len(Path(out.report_json).read_text()) < 20_000


def test_a_small_report_keeps_its_sections_and_says_what_is_missing(tmp_path: Path) -> None:
    out = asyncio.run(write_report(batch(tmp_path, 5, missing=(2,)), TopicOutputs))
    assert (out.succeeded, out.failed) == (4, 1)
    md = Path(out.report_md).read_text()
    assert 5 <= DETAIL_TOPICS and "## t4: topic 4" in md
    [gone] = [r for r in iter_results(tmp_path) if r["status"] != "succeeded"]
    assert gone["id"] == "t2" and gone["error"].startswith("no result file")


def test_a_cancelled_batch_reports_the_topics_it_never_started(tmp_path: Path) -> None:
    inp = batch(tmp_path, 6, missing=(3, 4, 5), cancelled=True, started=4)
    # t3 started but left no result (cancelled before it ran); t4, t5 never started
    out = asyncio.run(write_report(inp, TopicOutputs))
    assert (out.succeeded, out.cancelled) == (3, 3)
    errors = {r["id"]: r.get("error") for r in iter_results(tmp_path)}
    assert errors["t3"] == "cancelled" and errors["t4"] == errors["t5"] == "cancelled before it started"


@pytest.mark.parametrize("max_bytes", [1, 2_000, 96_000])
def test_pages_of_the_topic_file_hold_every_topic_once_and_stay_small(tmp_path: Path,
                                                                       max_bytes: int) -> None:
    specs = [TopicSpec(id=f"t{i}", topic=f"topic {i}" * (i % 7), models={"answer": ["m"]})
             for i in range(1200)]
    file = write_topics(tmp_path, (PlannedTopic(spec=s, carried=i % 5 == 0) for i, s in enumerate(specs)))
    seen: list[str] = []
    carried = 0
    page = TopicPage(items=[], offset=0, index=0, eof=False)
    while not page.eof:
        page = read_page(TopicPageRequest(path=file.path, offset=page.offset, index=page.index,
                                          max_bytes=max_bytes))
        assert len(page.model_dump_json()) <= max(max_bytes, 400) + 200  # one topic at least
        seen += [item.spec.id for item in page.items]
        carried += page.carried
    assert seen == [s.id for i, s in enumerate(specs) if i % 5] and carried == 240


def test_reports_are_written_without_following_a_planted_symlink(tmp_path: Path) -> None:
    """A shared output folder where someone planted report.md -> a file of theirs: the report
    replaces the link, the file it pointed at is untouched (workers often run as root)."""
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me\n")
    out = tmp_path / "out"
    out.mkdir()
    for name in ("report.md", "report.json", "results.jsonl"):
        (out / name).symlink_to(victim)
        (out / f".{name}.tmp").symlink_to(victim)  # where a temporary file was once written
    asyncio.run(write_report(batch(out, 3), TopicOutputs))
    assert victim.read_text() == "keep me\n"
    for name in ("report.md", "report.json", "results.jsonl"):
        assert not (out / name).is_symlink() and (out / name).stat().st_size > 0
    # a topic's result file too
    planted = out / "topics" / "t9" / "result.json"
    planted.parent.mkdir(parents=True)
    planted.symlink_to(victim)
    (planted.parent / ".result.json.tmp").symlink_to(victim)
    write_json_atomic(str(planted), {"id": "t9"})
    assert victim.read_text() == "keep me\n" and not planted.is_symlink()


def test_user_text_is_never_markup_in_report_md(tmp_path: Path) -> None:
    """Topic text and errors land in headings, tables and lines of report.md as text: no heading,
    link, HTML or table cell can come from them."""
    inp = batch(tmp_path, 2, failing_every=2)
    hostile = "x | y <img src=x onerror=alert(1)> [a](javascript:1) # *b* `c`"
    for tid in ("t0", "t1"):
        path = Path(result_path(topic_dir(str(tmp_path), tid)))
        result = TopicResult.model_validate_json(path.read_text())
        path.write_text(result.model_copy(update={"topic": hostile, "error": hostile + "\nmore"})
                        .model_dump_json())
    asyncio.run(write_report(inp, TopicOutputs))
    md = (tmp_path / "report.md").read_text()
    escaped = r"x \| y \<img src=x onerror=alert(1)\> \[a\](javascript:1) \# \*b\* \`c\`"
    assert f"## t1: {escaped}" in md and f"| {escaped} |" in md  # the heading; the failure's error
    assert "<img" not in md.replace(r"\<img", "") and "](javascript" not in md.replace(r"\](javascript", "")
