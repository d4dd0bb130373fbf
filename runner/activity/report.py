"""The batch report's content: ``report.json`` for machines and ``report.md`` for people.

The parent workflow keeps only small outcomes; the report activity
(:class:`runner.activity.engine.EngineActivities`) reads each topic's result file from the artifact
store, and this module aggregates them per step, per model and per batch.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from runner.contract.jobkind import TopicOutputs, report_cell
from runner.contract.types import ReportInput, TopicResult
from runner.store.files import load_result

log = logging.getLogger(__name__)


@dataclass
class BatchReport:
    """A batch's report: ``data`` is report.json; ``details`` holds each topic's lines for report.md
    that its job kind draws (by topic id)."""

    data: dict[str, Any]
    details: dict[str, list[str]] = field(default_factory=dict)


def kind_view(outputs_type: type[TopicOutputs], outputs: dict[str, Any]) -> tuple[str | None, list[str]]:
    """A topic's main output and report lines, as its job kind draws them. Outputs that do not fit
    the kind's model (a result file of an older version of the kind) or a hook that fails do not
    cost the batch its report: the topic's section says why its details are missing."""
    try:
        typed = outputs_type.model_validate(outputs)
    except ValidationError as exc:
        return None, ["", f"_(details unavailable: its outputs do not fit {outputs_type.__name__}: "
                          f"{report_cell(str(exc).splitlines()[0])})_"]
    try:
        return typed.main_output(), typed.report_lines()
    except Exception as exc:  # the kind's code: the report is written all the same
        log.warning("%s's report hooks failed: %s: %s", outputs_type.__name__, type(exc).__name__, exc)
        return None, ["", f"_(details unavailable: {outputs_type.__name__}'s report hooks failed: "
                          f"{report_cell(f'{type(exc).__name__}: {exc}')[:300]})_"]


def build_report(inp: ReportInput, outputs_type: type[TopicOutputs] = TopicOutputs) -> BatchReport:
    """The batch's report; the job kind's ``outputs_type`` names each topic's main output and draws
    its details."""
    topics: list[dict[str, Any]] = []
    details: dict[str, list[str]] = {}
    models: dict[str, dict[str, Any]] = {}
    for outcome in inp.outcomes:
        result = load_result(outcome.result_path)
        if result is None:  # the child failed before it could write its result
            result = TopicResult(id=outcome.id, topic=inp.topics.get(outcome.id, ""),
                                 status=outcome.status, error=outcome.error)
        entry = result.model_dump(mode="json", exclude={"checkpoints"})
        entry["output"], details[outcome.id] = kind_view(outputs_type, result.outputs)
        entry["status"] = outcome.status
        if outcome.status != "succeeded" and not entry.get("error"):
            entry["error"] = outcome.error
        topics.append(entry)
        for step in result.steps:
            for tried in step.models_tried:
                m = models.setdefault(tried.model, {"calls": 0, "answered": 0, "attempts": 0,
                                                    "skipped": 0, "input_tokens": 0,
                                                    "output_tokens": 0, "cost_usd": 0.0,
                                                    "unpriced_calls": 0})
                if tried.outcome == "skipped":  # out of quota: not called
                    m["skipped"] += 1
                    continue
                m["calls"] += 1
                m["attempts"] += tried.attempts or 0
                if tried.outcome == "answered":
                    m["answered"] += 1
                    usage = step.detail.get("usage") or {}
                    m["input_tokens"] += int(usage.get("input_tokens", 0))
                    m["output_tokens"] += int(usage.get("output_tokens", 0))
                    cost = step.detail.get("cost_usd")
                    if cost is None:  # neither the catalog nor litellm's cost map prices it
                        m["unpriced_calls"] += 1
                    else:
                        m["cost_usd"] = round(m["cost_usd"] + float(cost), 6)
    succeeded = sum(1 for t in topics if t["status"] == "succeeded")
    cancelled = sum(1 for t in topics if t["status"] == "cancelled")
    wall = (datetime.fromisoformat(inp.finished_at) - datetime.fromisoformat(inp.started_at))
    data = {
        "batch_id": inp.batch_id,
        "run_id": inp.run_id,
        "cancelled": inp.cancelled,
        "name": inp.name,
        "job": inp.job,
        "manifest": inp.manifest,
        "output_dir": inp.output_dir,
        "started_at": inp.started_at,
        "finished_at": inp.finished_at,
        "wall_s": round(wall.total_seconds(), 3),
        "totals": {
            "topics": len(topics),
            "succeeded": succeeded,
            "failed": len(topics) - succeeded - cancelled,
            "cancelled": cancelled,
            "reused_steps": sum(1 for t in topics for st in t.get("steps", []) if st.get("reused")),
            "llm_calls": sum(m["calls"] for m in models.values()),
            "input_tokens": sum(m["input_tokens"] for m in models.values()),
            "output_tokens": sum(m["output_tokens"] for m in models.values()),
            "cost_usd": round(sum(m["cost_usd"] for m in models.values()), 6),
            "unpriced_calls": sum(m["unpriced_calls"] for m in models.values()),
        },
        "models": models,
        "models_out": inp.models_out,
        "topics": topics,
    }
    return BatchReport(data=data, details=details)


def render_markdown(batch: BatchReport) -> str:
    """The report for people."""
    report = batch.data
    t = report["totals"]
    lines = [
        f"# Batch {report['batch_id']}",
        "",
        f"- job: `{report['job']}`, manifest: `{report['manifest']}`",
        *(["- **the batch was cancelled**"] if report.get("cancelled") else []),
        f"- {t['succeeded']}/{t['topics']} topics succeeded, {t['failed']} failed"
        + (f", {t['cancelled']} cancelled" if t.get("cancelled") else "")
        + f"; wall time {report['wall_s']:.1f} s"
        + (f"; {t['reused_steps']} steps reused from an earlier run" if t.get("reused_steps") else ""),
        f"- LLM calls: {t['llm_calls']}, tokens in/out: {t['input_tokens']}/{t['output_tokens']}, "
        f"cost ${t['cost_usd']:.4f}" + (f" (+{t['unpriced_calls']} unpriced calls)"
                                        if t["unpriced_calls"] else ""),
        *([f"- out of quota during the batch (skipped afterwards): {', '.join(gone)}"]
          if (gone := report.get("models_out")) else []),
        "",
        "| topic | status | output | steps |",
        "|---|---|---|---|",
    ]
    for topic in report["topics"]:
        output = topic.get("output") or ""
        steps = ", ".join(f"{s['name']} {s['duration_s'] or 0:.1f}s" for s in topic.get("steps", []))
        status = topic["status"] if topic["status"] == "succeeded" else f"**{topic['status']}**"
        cells = [report_cell(topic["id"]), status, report_cell(output), report_cell(steps)]
        lines.append(f"| {' | '.join(cells)} |")
    for topic in report["topics"]:
        lines += ["", f"## {topic['id']}: {topic['topic']}", ""]
        if topic["status"] == "cancelled":
            lines += [f"**Cancelled** (at {topic.get('failed_step') or 'before it started'})", ""]
        elif topic.get("error"):
            lines += [f"**Failed at {topic.get('failed_step') or '?'}:** {report_cell(topic['error'])}", ""]
        lines += ["| step | status | duration | attempts | model |", "|---|---|---|---|---|"]
        for s in topic.get("steps", []):
            status = "reused" if s.get("reused") else s["status"]
            attempts = "-" if s.get("reused") else s["attempts"] or "?"
            lines.append(f"| {s['name']} | {status} | {s['duration_s'] or 0:.2f} s | "
                         f"{attempts} | {s['model'] or ''} |")
        lines += batch.details.get(topic["id"], [])
    if report["models"]:
        lines += ["", "## Models", "",
                  "| model | calls | answered | attempts | skipped | tokens in | tokens out | cost |",
                  "|---|---|---|---|---|---|---|---|"]
        for name, m in sorted(report["models"].items()):
            lines.append(f"| {name} | {m['calls']} | {m['answered']} | {m['attempts']} | "
                         f"{m['skipped']} | {m['input_tokens']} | {m['output_tokens']} | "
                         f"${m['cost_usd']:.4f} |")
    return "\n".join(lines) + "\n"
