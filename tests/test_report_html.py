"""report.html (runner/activity/report_html.py) in a real headless Chromium: pages of at most 100
topics linked to each other, failures first and linked to their topics' cards, user text escaped,
filters by status, no console errors. (A report of a real batch, with its videos: tests/test_e2e.py.)"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from runner.activity.report_html import PER_PAGE, HtmlReport
from runner.contract.jobkind import ReportCheck, ReportMedia
from tests.browser import colours, load, screenshot

pytestmark = pytest.mark.slow
HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def topic(i: int) -> dict[str, Any]:
    status = "failed" if i % 7 == 3 else "cancelled" if i % 50 == 9 else "succeeded"
    return {"id": f"t{i}", "topic": f"Topic {i} {HOSTILE}" if i in (0, 240) else f"Topic {i}",
            "status": status, "failed_step": "render" if status != "succeeded" else None,
            "error": f"manim said {HOSTILE}" if status == "failed" else None,
            "steps": [{"name": f"step {n}", "status": "succeeded", "duration_s": 1.5, "attempts": 1,
                       "model": "offline", "detail": {}} for n in range(12)]}


def summary(failures: list[dict[str, Any]], total: int) -> dict[str, Any]:
    return {"batch_id": "b-1", "job": "explainer", "manifest": "m.yaml", "cancelled": False,
            "started_at": "2026-11-30T10:00:00+00:00", "finished_at": "2026-11-30T10:01:00+00:00",
            "wall_s": 60.0, "failures": failures,
            "totals": {"topics": total, "succeeded": total - len(failures), "failed": len(failures),
                       "cancelled": 0, "llm_calls": 3, "input_tokens": 10, "output_tokens": 20,
                       "cost_usd": 0.25, "unpriced_calls": 0},
            "models": {"offline": {"calls": 3, "answered": 3, "attempts": 3, "cached": 0,
                                   "input_tokens": 10, "output_tokens": 20, "cost_usd": 0.0}}}


def test_a_large_batch_is_paged_escaped_and_loads_without_console_errors(tmp_path: Path) -> None:
    out = tmp_path / "out"
    written: dict[str, str] = {}

    def write(rel: str, text: str) -> None:
        written[rel] = text
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        (out / rel).write_text(text, encoding="utf-8")

    (out / "v").mkdir(parents=True)
    html = HtmlReport(str(out), write)
    topics = [topic(i) for i in range(250)]
    failures = []
    for i, t in enumerate(topics):
        media = ReportMedia(video=f"{out}/v/{t['id']}.mp4", thumbnail=f"{out}/v/{t['id']}.jpg",
                            duration_s=12.5, files=[f"{out}/v/{t['id']}.srt"])
        html.add(t, media, [ReportCheck(text=f"1 + 1 == 2 {HOSTILE}", verdict="verified")], "b-1", i)
        if t["status"] != "succeeded":
            failures.append({"id": t["id"], "status": t["status"], "failed_step": t["failed_step"],
                             "error": t["error"]})
    html.finish(summary(failures, len(topics)))

    assert sorted(written) == ["report-pages/2.html", "report-pages/3.html", "report.html"]
    for rel, text in written.items():
        assert len(text.encode()) < 2_000_000, rel
        assert "<script>alert" not in text and "<img src=x" not in text  # text, never markup
        assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in text or rel == "report-pages/2.html"
    main = written["report.html"]
    assert main.count('class="card"') == PER_PAGE
    assert written["report-pages/3.html"].count('class="card"') == 50
    assert main.index("<h2>Failures") < main.index("<h2>Topics")  # failures first
    assert 'href="report-pages/3.html#t-t241"' in main  # a failure on page 3, linked there
    assert 'href="#t-t3"' in main  # one on this page
    assert 'src="v/t0.mp4"' in main and 'poster="v/t0.jpg"' in main  # relative: file:// or a bucket
    assert 'src="../v/t150.mp4"' in written["report-pages/2.html"]
    assert 'href="3.html"' in written["report-pages/2.html"]
    assert "page 4" not in written["report-pages/3.html"]

    page = load((out / "report.html").as_uri())
    assert page.console == []
    cards = re.findall(r'<div class="card" data-status="(\w+)" id="t-t\d+"( hidden="")?', page.dom)
    assert len(cards) == PER_PAGE and not any(hidden for _, hidden in cards)
    failed = load((out / "report.html").as_uri() + "#status=failed")
    shown = re.findall(r'<div class="card" data-status="(\w+)" id="t-t\d+">', failed.dom)
    assert shown and set(shown) == {"failed"} and failed.console == []
    last = load((out / "report-pages" / "3.html").as_uri())
    assert last.console == [] and last.dom.count('class="card"') == 50
    png = screenshot((out / "report.html").as_uri(), tmp_path / "report.png")
    assert colours(png) > 20  # a page drawn, not a blank one
