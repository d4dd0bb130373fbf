"""What a batch tells CI: a JUnit XML file (one testcase per topic) and, under GitHub Actions, a
Markdown summary appended to ``$GITHUB_STEP_SUMMARY``. Both are made from the batch's report.json
and results.jsonl, streamed (a batch may have 100,000 topics)."""

from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Any

from runner.contract.budget import budget_text
from runner.contract.errors import first_line
from runner.contract.jobkind import report_cell
from runner.store.artifacts import store_for
from runner.store.files import iter_results

Echo = Callable[[str], None]
SUMMARY_ENV = "GITHUB_STEP_SUMMARY"
SUMMARY_FAILURES = 50  # failures listed in the step summary


def ci_outputs(report_json: str, junit: Path | None, echo: Echo) -> None:
    """Write ``junit`` (if given) and the GitHub step summary (if ``$GITHUB_STEP_SUMMARY`` is set)
    for the batch whose report is ``report_json``."""
    report = json.loads(store_for(report_json).read_bytes(report_json))
    if junit is not None:
        cases = write_junit(report, junit)
        echo(f"junit: {junit} ({cases} testcases)")
    summary = os.environ.get(SUMMARY_ENV)
    if summary:
        with open(summary, "a", encoding="utf-8") as f:
            f.write(step_summary(report))
        echo(f"step summary appended to ${SUMMARY_ENV}")


def write_junit(report: dict[str, Any], path: Path) -> int:
    """One testsuite for the batch, one testcase per topic (a failed topic is a failure with its
    step and error, and so is one out of budget; a cancelled one is skipped; reused steps and
    carried topics are said in system-out). Returns the number of testcases."""
    totals = report["totals"]
    failures = str(totals.get("failed", 0) + totals.get("budget_exhausted", 0))
    root = ET.Element("testsuites", name=f"runner {report['name']}", tests=str(totals["topics"]),
                      failures=failures, skipped=str(totals.get("cancelled", 0)),
                      errors="0", time=f"{report.get('wall_s', 0):.3f}")
    suite = ET.SubElement(root, "testsuite", name=report["batch_id"], tests=str(totals["topics"]),
                          failures=failures,
                          skipped=str(totals.get("cancelled", 0)), errors="0",
                          time=f"{report.get('wall_s', 0):.3f}", timestamp=report.get("started_at", ""))
    classname = f"{report['name']}.{report['job']}"
    cases = 0
    for row in iter_results(report["output_dir"]):
        cases += 1
        steps = row.get("steps") or []
        took = sum(float(s.get("duration_s") or 0) for s in steps if not s.get("reused"))
        case = ET.SubElement(suite, "testcase", classname=classname, name=str(row["id"]),
                             time=f"{took:.3f}")
        status = row.get("status")
        where = row.get("failed_step") or "?"
        if status == "failed":
            failure = ET.SubElement(case, "failure", type=str(where),
                                    message=f"at {where}: {first_line(row.get('error'))}")
            failure.text = str(row.get("error") or "")
        elif status == "budget_exhausted":
            ET.SubElement(case, "failure", type="budget_exhausted",
                          message=f"out of budget at {row.get('failed_step') or 'start'}: "
                                  f"{first_line(row.get('error'))}").text = str(row.get("error") or "")
        elif status == "cancelled":
            ET.SubElement(case, "skipped", message=f"cancelled at {row.get('failed_step') or 'start'}")
        out = [f"topic: {row.get('topic', '')}", f"output: {row.get('output') or '-'}"]
        reused = [s["name"] for s in steps if s.get("reused")]
        cached = [s["name"] for s in steps if (s.get("detail") or {}).get("cached_from")]
        if row.get("carried"):
            out.append("carried: succeeded in an earlier run of the batch")
        elif reused:
            out.append(f"reused steps: {', '.join(reused)}")
        if cached:
            out.append(f"from the step cache: {', '.join(cached)}")
        ET.SubElement(case, "system-out").text = "\n".join(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)
    return cases


def step_summary(report: dict[str, Any]) -> str:
    """The batch in Markdown for a CI job's summary page: counts, cost, failures, where it is."""
    t = report["totals"]
    state = ("cancelled" if report.get("cancelled") else "failed" if t.get("failed")
             else "out of budget" if t.get("budget_exhausted") else "passed")
    lines = [
        f"### runner batch `{report['batch_id']}`: {state}", "",
        "| topics | succeeded | failed | cancelled | out of budget | reused steps | LLM calls "
        "| cached steps | cost (USD) | wall |",
        "|---|---|---|---|---|---|---|---|---|---|",
        f"| {t['topics']} | {t.get('succeeded', 0)} | {t.get('failed', 0)} | {t.get('cancelled', 0)} "
        f"| {t.get('budget_exhausted', 0)} | {t.get('reused_steps', 0)} | {t.get('llm_calls', 0)} "
        f"| {t.get('cached_steps', 0)} | {t.get('cost_usd', 0):.4f} | {report.get('wall_s', 0):.1f} s |",
        *([f"Budget: {budget_text(report['budget'])}", ""] if report.get("budget") else [""]),
    ]
    failures = report.get("failures") or []
    if failures:
        lines += ["| failed topic | status | step | error |", "|---|---|---|---|"]
        for f in failures[:SUMMARY_FAILURES]:
            lines.append(f"| `{f['id']}` | {f['status']} | {f.get('failed_step') or ''} | "
                         f"{_cell(f.get('error'))} |")
        more = max(len(failures), t.get("failed", 0) + t.get("cancelled", 0)
                   + t.get("budget_exhausted", 0)) - SUMMARY_FAILURES
        if more > 0:
            lines.append(f"\n... and {more} more (see report.md)")
        lines.append("")
    out = report["output_dir"]
    lines += [f"Outputs: `{out}` (report: `{out}/report.md`, `{out}/results.jsonl`)", "", ""]
    return "\n".join(lines)


def _cell(text: object) -> str:
    return report_cell(first_line(str(text or ""), 200))
