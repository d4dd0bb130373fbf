"""The batch report: ``report.json`` (a summary: totals, per-model usage, failures),
``results.jsonl`` (one line per topic, streamable), and for people ``report.md`` and
``report.html`` (see :mod:`runner.activity.report_html`).

The parent workflow keeps only counts; the report activity
(:class:`runner.activity.engine.EngineActivities`) reads the batch's topic file and each topic's
result file in pages, so its memory does not grow with the batch: per-topic detail stays in the
result files and results.jsonl.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice
from typing import Any

from pydantic import ValidationError

from runner.activity.report_html import HtmlReport
from runner.contract.budget import budget_text
from runner.contract.delivery import DELIVERY_DIR
from runner.contract.errors import first_line
from runner.contract.jobkind import (
    ReportCheck,
    ReportMedia,
    TopicOutputs,
    base_step,
    markdown_text,
    report_cell,
)
from runner.contract.keys import spec_key
from runner.contract.names import result_path, topic_dir
from runner.contract.types import PlannedTopic, ReportInput, ReportOutput, TopicResult
from runner.store.artifacts import join, store_for
from runner.store.files import (
    REPORT_HTML,
    REPORT_JSON,
    REPORT_MD,
    RESULTS_JSONL,
    load_result,
    write_json_atomic,
    write_text_atomic,
)
from runner.store.topics import iter_topics

log = logging.getLogger(__name__)

DETAIL_TOPICS = 200  # report.md has a section per topic up to this many topics
TABLE_TOPICS = 2000  # and a table row per topic up to this many (past it: failed ones, up to
# LISTED_FAILURES more)
LISTED_FAILURES = 1000  # report.json and report.md list this many failures (all: results.jsonl)
PAGE = 500  # topics read between heartbeats


@dataclass
class KindView:
    """A topic as its job kind draws it: its main output, report.md lines, report.html media and
    checks."""

    main: str | None = None
    lines: list[str] = field(default_factory=list)
    media: ReportMedia = field(default_factory=ReportMedia)
    checks: list[ReportCheck] = field(default_factory=list)


def kind_view(outputs_type: type[TopicOutputs], outputs: dict[str, Any]) -> KindView:
    """A topic's main output and report lines, as its job kind draws them. Outputs that do not fit
    the kind's model (a result file of an older version of the kind) or a hook that fails do not
    cost the batch its report: the topic's section says why its details are missing."""
    try:
        typed = outputs_type.model_validate(outputs)
    except ValidationError as exc:
        return KindView(lines=["", f"_(details unavailable: its outputs do not fit "
                                   f"{outputs_type.__name__}: {report_cell(str(exc).splitlines()[0])})_"])
    try:
        return KindView(typed.main_output(), typed.report_lines(), typed.report_media(),
                        typed.report_checks())
    except Exception as exc:  # the kind's code: the report is written all the same
        log.warning("%s's report hooks failed: %s: %s", outputs_type.__name__, type(exc).__name__, exc)
        return KindView(lines=["", f"_(details unavailable: {outputs_type.__name__}'s report hooks "
                                   f"failed: {report_cell(f'{type(exc).__name__}: {exc}')[:300]})_"])


class BatchReport:
    """A batch's report, built one topic at a time (:meth:`add`); keeps totals, per-model usage,
    the first failures, and for small batches the lines report.md shows per topic."""

    def __init__(self, inp: ReportInput, outputs_type: type[TopicOutputs] = TopicOutputs) -> None:
        self.inp = inp
        self.outputs_type = outputs_type
        self.totals = {"topics": 0, "succeeded": 0, "failed": 0, "cancelled": 0, "budget_exhausted": 0,
                       "reused_steps": 0, "cached_steps": 0}
        self.steps: dict[str, dict[str, int]] = {}  # step -> ran / cached / reused
        self.models: dict[str, dict[str, Any]] = {}
        self.failures: list[dict[str, Any]] = []
        self.rows: list[str] = []  # report.md's table, up to TABLE_TOPICS topics
        self.details: list[list[str]] = []  # report.md's sections, up to DETAIL_TOPICS topics
        self.html: HtmlReport | None = None  # report.html's pages, when it is written
        self.windows: list[dict[str, Any]] = []  # this run's provider batches (batch delivery)

    def result_of(self, index: int, planned: PlannedTopic) -> TopicResult:
        """The topic's result file, or what stands for it when it has none (or one written for
        another input)."""
        spec = planned.spec
        if (not planned.carried and (self.inp.cancelled or self.inp.out_of_budget)
                and 0 <= self.inp.started <= index):
            if self.inp.cancelled:
                return TopicResult(id=spec.id, topic=spec.topic, status="cancelled",
                                   error="cancelled before it started")
            return TopicResult(id=spec.id, topic=spec.topic, status="budget_exhausted",
                               error="not started: the batch's budget was spent")
        result = load_result(result_path(topic_dir(self.inp.output_dir, spec.id)))
        if result is not None and result.spec_key == spec_key(spec):
            return result
        if self.inp.cancelled:
            return TopicResult(id=spec.id, topic=spec.topic, status="cancelled", error="cancelled")
        return TopicResult(id=spec.id, topic=spec.topic, status="failed",
                           error="no result file: its workflow ended without writing one "
                                 "(terminated, or it could not start)")

    def add(self, index: int, planned: PlannedTopic) -> dict[str, Any]:
        """Count one topic; returns its line of results.jsonl."""
        result = self.result_of(index, planned)
        entry = result.model_dump(mode="json", exclude={"checkpoints"})
        view = kind_view(self.outputs_type, result.outputs)
        entry["output"], lines = view.main, view.lines
        if planned.carried:
            entry["carried"] = True
        t = self.totals
        t["topics"] += 1
        t[result.status] += 1
        t["reused_steps"] += sum(1 for s in result.steps if s.reused)
        for s in result.steps:
            how = "reused" if s.reused else "cached" if s.detail.get("cached_from") else "ran"
            t["cached_steps"] += how == "cached"
            counts = self.steps.setdefault(base_step(s.name), {"ran": 0, "cached": 0, "reused": 0})
            counts[how] += 1
        self._count_models(result)
        if result.status != "succeeded" and len(self.failures) < LISTED_FAILURES:
            self.failures.append({"id": result.id, "topic": result.topic, "status": result.status,
                                  "failed_step": result.failed_step, "error": first_line(result.error)})
        if t["topics"] <= TABLE_TOPICS or (result.status != "succeeded"
                                            and len(self.rows) < TABLE_TOPICS + LISTED_FAILURES):
            self.rows.append(self._row(entry))
        if t["topics"] <= DETAIL_TOPICS:
            self.details.append(self._section(entry, lines))
        if self.html is not None:
            self.html.add(entry, view.media, view.checks, self.inp.batch_id, t["topics"] - 1)
        return entry

    def _count_models(self, result: TopicResult) -> None:
        for step in result.steps:
            for tried in step.models_tried:
                m = self.models.setdefault(tried.model, {
                    "calls": 0, "answered": 0, "attempts": 0, "skipped": 0, "cached": 0,
                    "input_tokens": 0, "output_tokens": 0, "cache_read_tokens": 0, "cache_write_tokens": 0,
                    "cost_usd": 0.0, "unpriced_calls": 0, "batch_calls": 0, "batch_saved_usd": 0.0})
                if tried.outcome == "skipped":  # out of quota: not called
                    m["skipped"] += 1
                    continue
                if tried.outcome == "cached":  # the step cache answered: not called, not paid
                    m["cached"] += 1
                    continue
                m["calls"] += 1
                m["attempts"] += tried.attempts or 0
                if tried.outcome == "answered":
                    m["answered"] += 1
                    usage = step.detail.get("usage") or {}
                    m["input_tokens"] += int(usage.get("input_tokens", 0))
                    m["output_tokens"] += int(usage.get("output_tokens", 0))
                    m["cache_read_tokens"] += int(usage.get("cache_read_tokens", 0))
                    m["cache_write_tokens"] += int(usage.get("cache_write_tokens", 0))
                    m["batch_calls"] += step.detail.get("delivery") == "batch"
                    cost = step.detail.get("cost_usd")
                    if cost is None:  # neither the catalog nor litellm's cost map prices it
                        m["unpriced_calls"] += 1
                    else:
                        m["cost_usd"] = round(m["cost_usd"] + float(cost), 6)
                    if (listed := step.detail.get("list_cost_usd")) is not None and cost is not None:
                        m["batch_saved_usd"] = round(m["batch_saved_usd"] + float(listed) - float(cost), 6)

    @staticmethod
    def _row(topic: dict[str, Any]) -> str:
        steps = ", ".join(f"{s['name']} {s['duration_s'] or 0:.1f}s" for s in topic.get("steps", []))
        status = topic["status"] if topic["status"] == "succeeded" else f"**{topic['status']}**"
        cells = [report_cell(topic["id"]), status, report_cell(topic.get("output") or ""),
                 report_cell(steps)]
        return f"| {' | '.join(cells)} |"

    @staticmethod
    def _section(topic: dict[str, Any], details: list[str]) -> list[str]:
        lines = ["", f"## {topic['id']}: {markdown_text(topic['topic'])}", ""]
        if topic["status"] == "cancelled":
            lines += [f"**Cancelled** (at {topic.get('failed_step') or 'before it started'})", ""]
        elif topic["status"] == "budget_exhausted":
            lines += [f"**Out of budget** (at {topic.get('failed_step') or 'before it started'}): "
                      f"{report_cell(topic.get('error') or '')}", ""]
        elif topic.get("error"):
            lines += [f"**Failed at {topic.get('failed_step') or '?'}:** {report_cell(topic['error'])}", ""]
        lines += ["| step | status | duration | attempts | model |", "|---|---|---|---|---|"]
        for s in topic.get("steps", []):
            made = (s.get("detail") or {}).get("cached_from")
            status = "reused" if s.get("reused") else \
                f"cached (from {report_cell(made.get('batch', '?'))})" if made else s["status"]
            attempts = "-" if s.get("reused") else s["attempts"] or "?"
            lines.append(f"| {s['name']} | {status} | {s['duration_s'] or 0:.2f} s | "
                         f"{attempts} | {s['model'] or ''} |")
        return lines + details

    def summary(self) -> dict[str, Any]:
        """report.json."""
        inp, models = self.inp, self.models
        wall = datetime.fromisoformat(inp.finished_at) - datetime.fromisoformat(inp.started_at)
        return {
            "batch_id": inp.batch_id, "run_id": inp.run_id, "cancelled": inp.cancelled,
            "name": inp.name, "job": inp.job, "manifest": inp.manifest, "output_dir": inp.output_dir,
            "started_at": inp.started_at, "finished_at": inp.finished_at,
            "wall_s": round(wall.total_seconds(), 3),
            "totals": {
                **self.totals,
                "llm_calls": sum(m["calls"] for m in models.values()),
                "cached_llm_calls": sum(m["cached"] for m in models.values()),
                "input_tokens": sum(m["input_tokens"] for m in models.values()),
                "output_tokens": sum(m["output_tokens"] for m in models.values()),
                "cache_read_tokens": sum(m.get("cache_read_tokens", 0) for m in models.values()),
                "cache_write_tokens": sum(m.get("cache_write_tokens", 0) for m in models.values()),
                "batch_calls": sum(m.get("batch_calls", 0) for m in models.values()),
                "batch_saved_usd": round(sum(m.get("batch_saved_usd", 0.0) for m in models.values()), 6),
                "cost_usd": round(sum(m["cost_usd"] for m in models.values()), 6),
                "unpriced_calls": sum(m["unpriced_calls"] for m in models.values()),
            },
            "steps": self.steps,
            "models": models,
            "models_out": inp.models_out,
            "budget": inp.budget.model_dump(mode="json") if inp.budget else None,
            "provider_batches": self.windows,
            "results": RESULTS_JSONL,
            "failures": self.failures,
        }

    def markdown(self) -> str:
        """report.md: totals, failures first, a table, and per topic sections for small batches."""
        report = self.summary()
        t = report["totals"]
        lines = [
            f"# Batch {report['batch_id']}",
            "",
            f"- job: `{report['job']}`, manifest: `{report['manifest']}`",
            *(["- **the batch was cancelled**"] if report["cancelled"] else []),
            f"- {t['succeeded']}/{t['topics']} topics succeeded, {t['failed']} failed"
            + (f", {t['cancelled']} cancelled" if t["cancelled"] else "")
            + (f", {t['budget_exhausted']} out of budget" if t["budget_exhausted"] else "")
            + f"; wall time {report['wall_s']:.1f} s"
            + (f"; {t['reused_steps']} steps reused from an earlier run" if t["reused_steps"] else ""),
            *(["- steps run / from the step cache: " + ", ".join(
                f"{name} {c['ran']}/{c['cached']}" for name, c in report["steps"].items())]
              if t["cached_steps"] else []),
            f"- LLM calls: {t['llm_calls']}, tokens in/out: {t['input_tokens']}/{t['output_tokens']}, "
            f"cost ${t['cost_usd']:.4f}" + (f" (+{t['unpriced_calls']} unpriced calls)"
                                            if t["unpriced_calls"] else "")
            + (f"; {t['cached_llm_calls']} answers from the step cache (no call, no cost)"
               if t.get("cached_llm_calls") else ""),
            *([f"- prompt cache: {t['cache_read_tokens']} input tokens read from the providers' "
               f"caches, {t['cache_write_tokens']} written (in the tokens in above)"]
              if t["cache_read_tokens"] or t["cache_write_tokens"] else []),
            *([f"- out of quota during the batch (skipped afterwards): {', '.join(gone)}"]
              if (gone := report["models_out"]) else []),
            *([f"- budget: {budget_text(report['budget'])}"] if report["budget"] else []),
            *([f"- provider batches: {len(wins)} ({sum(w['requests'] for w in wins)} calls, "
               f"{sum(w['resubmitted'] for w in wins)} of them resubmitted after expiring); their "
               f"{t['batch_calls']} answers at batch prices: ${t['batch_saved_usd']:.4f} less than "
               "realtime"] if (wins := report["provider_batches"]) else []),
            f"- every topic, one JSON line each: `{RESULTS_JSONL}`",
        ]
        if self.failures:
            more = t["failed"] + t["cancelled"] + t["budget_exhausted"] - len(self.failures)
            lines += ["", "## Failures" + (f" (first {len(self.failures)}; {more} more in "
                                           f"{RESULTS_JSONL})" if more else ""), "",
                      "| topic | status | step | error |", "|---|---|---|---|"]
            lines += [f"| {report_cell(f['id'])} | {f['status']} | {f['failed_step'] or ''} | "
                      f"{report_cell(f['error'])} |" for f in self.failures]
        if report["models"]:
            lines += ["", "## Models", "",
                      "| model | calls | answered | attempts | skipped | tokens in | tokens out | cost |",
                      "|---|---|---|---|---|---|---|---|"]
            for name, m in sorted(report["models"].items()):
                lines.append(f"| {name} | {m['calls']} | {m['answered']} | {m['attempts']} | "
                             f"{m['skipped']} | {m['input_tokens']} | {m['output_tokens']} | "
                             f"${m['cost_usd']:.4f} |")
        if report["provider_batches"]:
            lines += ["", "## Provider batches", "",
                      "| window | model | provider batch | calls | succeeded | errored | expired "
                      "| resubmission |",
                      "|---|---|---|---|---|---|---|---|"]
            lines += [f"| {report_cell(w['window'])} | {report_cell(w['model'])} | "
                      f"{report_cell(w['provider_batch'])} | {w['requests']} | {w.get('succeeded', '?')} | "
                      f"{w.get('errored', '?')} | {w.get('expired', '?')} | "
                      f"{'yes' if w['resubmitted'] else ''} |" for w in report["provider_batches"][:100]]
        shown = (f" (the first {TABLE_TOPICS}, then the failed ones; all in {RESULTS_JSONL})"
                 if t["topics"] > TABLE_TOPICS else "")
        lines += ["", f"## Topics{shown}", "", "| topic | status | output | steps |", "|---|---|---|---|",
                  *self.rows]
        if t["topics"] <= DETAIL_TOPICS:
            for section in self.details:
                lines += section
        else:
            lines += ["", f"_Per-topic detail: each topic's result.json (over {DETAIL_TOPICS} topics "
                          "report.md has no sections)._"]
        return "\n".join(lines) + "\n"


def provider_batches(out_dir: str, run_key: str) -> list[dict[str, Any]]:
    """The provider batches of the batch run ``run_key`` (see :mod:`runner.contract.delivery`), from
    their window files, in the order they were submitted."""
    folder = join(out_dir, DELIVERY_DIR, "windows")
    store = store_for(folder)
    found = []
    for info in store.files(folder):
        name = info.path.rsplit("/", 1)[-1]
        if name.startswith(f"{run_key}-w") and name.endswith(".json"):
            entry = json.loads(store.read_text(info.path))
            entry.pop("custom_ids", None)
            found.append(entry)
    return sorted(found, key=lambda w: (w.get("submitted_at", ""), w["window"]))


def _take(topics: Iterator[tuple[int, PlannedTopic]], report: BatchReport, out: Any) -> int:
    n = 0
    for index, planned in islice(topics, PAGE):
        out.write(json.dumps(report.add(index, planned), ensure_ascii=False) + "\n")
        n += 1
    return n


async def write_report(inp: ReportInput, outputs_type: type[TopicOutputs],
                       heartbeat: Callable[..., None] = lambda *_: None) -> ReportOutput:
    """Read the batch's topics and results in pages (heartbeating between pages) and write
    results.jsonl, report.json and report.md to its output directory."""
    report = BatchReport(inp, outputs_type)
    out_dir = inp.output_dir
    store = store_for(out_dir)
    report.html = HtmlReport(out_dir, lambda rel, page: write_text_atomic(join(out_dir, rel), page))
    topics = iter_topics(inp.topics_file)
    with store.writing(join(out_dir, RESULTS_JSONL)) as tmp, tmp.open("w", encoding="utf-8") as out:
        while await asyncio.to_thread(_take, topics, report, out):
            heartbeat(report.totals["topics"])
    if inp.windows:
        report.windows = await asyncio.to_thread(provider_batches, out_dir, inp.windows)
    summary = report.summary()
    write_json_atomic(join(out_dir, REPORT_JSON), summary)
    write_text_atomic(join(out_dir, REPORT_MD), report.markdown())
    await asyncio.to_thread(report.html.finish, summary)
    t = report.totals
    return ReportOutput(report_json=join(out_dir, REPORT_JSON), report_md=join(out_dir, REPORT_MD),
                        report_html=join(out_dir, REPORT_HTML), total=t["topics"],
                        succeeded=t["succeeded"], failed=t["failed"], cancelled=t["cancelled"],
                        budget_exhausted=t["budget_exhausted"])
