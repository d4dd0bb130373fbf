"""report.html: the batch report for people, a static page beside report.json.

Self-contained (inline CSS and a few lines of script; no server, no network): it works from
``file://`` and from an object store alike, since every link is relative to the report's folder.
It shows the batch summary (counts, wall time, cost, per-model usage), the failures first with their
errors, then a gallery of topics: thumbnail and video player, duration, checks with verdicts, steps
with durations, attempts and models, and links to the topic's files. A page holds at most
``PER_PAGE`` topics: report.html the first, ``report-pages/N.html`` the rest, each linked to the
others, so no page grows with the batch. Buttons filter a page's topics by status (a link can
say which: ``report.html#status=failed``).

All user text (topics, errors, model answers) is escaped: it is never markup.
"""

from __future__ import annotations

import html
import posixpath
import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote

from runner.contract.budget import budget_text
from runner.contract.jobkind import ReportCheck, ReportMedia
from runner.store.files import REPORT_HTML

PAGES_DIR = "report-pages"
PER_PAGE = 100  # topics per page
ERROR_CHARS = 600  # of an error shown (the whole one is in the topic's result.json)

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u202a-\u202e\u2066-\u2069]")

CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:0;background:#f4f5f7;color:#1d2330}
header,main{max-width:1200px;margin:0 auto;padding:12px 20px}
h1{font-size:22px;margin:8px 0}h2{font-size:17px;margin:22px 0 8px}
table{border-collapse:collapse;background:#fff;margin:4px 0}
td,th{border:1px solid #d8dbe2;padding:3px 8px;text-align:left;vertical-align:top}
.facts span{display:inline-block;margin:0 14px 4px 0}
.badge{display:inline-block;border-radius:9px;padding:0 8px;font-size:12px;color:#fff;background:#6b7280}
.succeeded,.verified,.answered{background:#15803d}.failed,.refuted{background:#b91c1c}
.cancelled,.unknown,.unchecked,.budget_exhausted{background:#b45309}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(330px,1fr));gap:14px}
.card{background:#fff;border:1px solid #d8dbe2;border-radius:8px;padding:10px;overflow:hidden}
.card h3{font-size:15px;margin:0 0 6px}.card video,.card img{width:100%;border-radius:4px;background:#000}
.card table{font-size:12px;width:100%}.error{color:#b91c1c;white-space:pre-wrap;word-break:break-word}
.filters button{margin-right:6px}.filters button.on{font-weight:bold}
nav a{margin-right:8px}.muted{color:#6b7280}
"""

SCRIPT = """
function show(status){
  document.querySelectorAll('.card').forEach(function(c){
    c.hidden = status !== 'all' && c.dataset.status !== status;
  });
  document.querySelectorAll('.filters button').forEach(function(b){
    b.classList.toggle('on', b.dataset.status === status);
  });
}
document.querySelectorAll('.filters button').forEach(function(b){
  b.addEventListener('click', function(){ show(b.dataset.status);
    location.hash = b.dataset.status === 'all' ? '' : 'status=' + b.dataset.status; });
});
if (location.hash.indexOf('#status=') === 0) { show(decodeURIComponent(location.hash.slice(8))); }
"""


def text(value: Any) -> str:
    """``value`` as HTML text: escaped, control and bidi-override characters dropped."""
    return html.escape(_CONTROL.sub("", str(value)), quote=True)


def href(path: str | None, out_dir: str, page_dir: str = "") -> str | None:
    """A link from a page in ``page_dir`` (relative to ``out_dir``) to ``path``: relative when the
    file is in the batch's folder, else a file:// or https:// URL; None when a browser cannot
    reach it (another object store's URL)."""
    if not path:
        return None
    root = out_dir.rstrip("/") + "/"
    if path.startswith(root):
        rel = path[len(root):]
        rel = posixpath.relpath(rel, page_dir) if page_dir else rel
        return quote(rel) if ":" not in rel.split("/")[0] else "./" + quote(rel)  # (not a scheme)
    if path.startswith("/"):
        return "file://" + quote(path)
    if path.startswith(("http://", "https://")):
        return path
    return None


def _link(path: str | None, out_dir: str, page_dir: str, label: str | None = None) -> str:
    url = href(path, out_dir, page_dir)
    name = text(label or posixpath.basename(path or ""))
    return f'<a href="{text(url)}">{name}</a>' if url else f"<span>{name}</span>"


def card(topic: dict[str, Any], media: ReportMedia, checks: list[ReportCheck], out_dir: str,
         page_dir: str = "") -> str:
    """One topic's card in the gallery."""
    status = topic["status"]
    parts = [f'<div class="card" data-status="{text(status)}" id="t-{text(topic["id"])}">',
             f'<h3>{text(topic["id"])} <span class="badge {text(status)}">{text(status)}</span></h3>',
             f'<div class="muted">{text(topic["topic"])}</div>']
    video = href(media.video, out_dir, page_dir)
    poster = href(media.thumbnail, out_dir, page_dir)
    if video:
        parts.append(f'<video controls preload="none" src="{text(video)}"'
                     + (f' poster="{text(poster)}"' if poster else "") + "></video>")
    elif poster:
        parts.append(f'<img alt="thumbnail of {text(topic["id"])}" src="{text(poster)}">')
    facts = []
    if media.duration_s is not None:
        facts.append(f"{media.duration_s:.1f} s")
    links = [_link(p, out_dir, page_dir) for p in [media.video, *media.files] if p]
    links.append(_link(posixpath.join(out_dir, "topics", topic["id"], "result.json"), out_dir, page_dir))
    parts.append(f'<div>{" &middot; ".join(facts + links)}</div>')
    if topic.get("error"):
        step = f' at {text(topic["failed_step"])}' if topic.get("failed_step") else ""
        error = text(str(topic["error"])[:ERROR_CHARS])
        parts.append(f'<div class="error">{text(status)}{step}: {error}</div>')
    if checks:
        parts.append("<table><tr><th>check</th><th>verdict</th></tr>")
        parts += [f'<tr><td title="{text(c.detail)}">{text(c.text)}</td><td><span class="badge '
                  f'{text(c.verdict)}">{text(c.verdict)}</span></td></tr>' for c in checks]
        parts.append("</table>")
    steps = topic.get("steps") or []
    if steps:
        parts.append("<table><tr><th>step</th><th>status</th><th>s</th><th>tries</th><th>model</th></tr>")
        for s in steps:
            made = (s.get("detail") or {}).get("cached_from")
            how = "reused" if s.get("reused") else "cached" if made else s.get("status", "")
            parts.append(f"<tr><td>{text(s['name'])}</td><td>{text(how)}</td>"
                         f"<td>{(s.get('duration_s') or 0):.1f}</td><td>{text(s.get('attempts') or '-')}</td>"
                         f"<td>{text(s.get('model') or '')}</td></tr>")
        parts.append("</table>")
    parts.append("</div>")
    return "".join(parts)


def _filters(counts: dict[str, int]) -> str:
    buttons = ['<button data-status="all" class="on">all</button>']
    buttons += [f'<button data-status="{s}">{s} ({n})</button>' for s, n in counts.items() if n]
    return f'<div class="filters">show: {"".join(buttons)}</div>'


def page_path(number: int) -> str:
    """Page ``number`` of the gallery, relative to the batch's folder."""
    return REPORT_HTML if number == 1 else posixpath.join(PAGES_DIR, f"{number}.html")


def _pager(pages: int, current: int, from_dir: str) -> str:
    """Links to every page (report.html, which knows how many there are)."""
    if pages <= 1:
        return ""
    links = [f"<b>{n}</b>" if n == current else
             f'<a href="{text(posixpath.relpath(page_path(n), from_dir or "."))}">{n}</a>'
             for n in range(1, pages + 1)]
    return f"<nav>topics, {PER_PAGE} a page: {' '.join(links)}</nav>"


def page(title: str, body: Iterable[str]) -> str:
    return ("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
            '<meta name="viewport" content="width=device-width,initial-scale=1">'
            f"<title>{text(title)}</title><style>{CSS}</style></head><body>"
            + "".join(body) + f"<script>{SCRIPT}</script></body></html>\n")


def gallery_page(batch: str, cards: list[str], counts: dict[str, int], number: int, more: bool) -> str:
    """Page ``number`` (2 and on) of the gallery, in ``PAGES_DIR``: its topics, and links to the
    page before and, if ``more``, the one after."""
    before = posixpath.relpath(page_path(number - 1), PAGES_DIR)
    links = [f'<a href="{text(before)}">&laquo; page {number - 1}</a>']
    if more:
        links.append(f'<a href="{number + 1}.html">page {number + 1} &raquo;</a>')
    return page(f"{batch}: topics, page {number}", [
        f"<header><h1>{text(batch)}: topics, page {number}</h1><nav>"
        f'<a href="../{REPORT_HTML}">the batch report</a> {" ".join(links)}</nav></header>',
        f'<main>{_filters(counts)}<div class="grid">{"".join(cards)}</div></main>'])


def _failure_row(failure: dict[str, Any], number: int) -> str:
    """A row of report.html's failures, its topic linked to its card on page ``number``."""
    where = (page_path(number) if number > 1 else "") + f"#t-{failure['id']}"
    status = text(failure["status"])
    return (f'<tr><td><a href="{text(where)}">{text(failure["id"])}</a></td>'
            f'<td><span class="badge {status}">{status}</span></td>'
            f'<td>{text(failure["failed_step"] or "")}</td>'
            f'<td class="error">{text(str(failure["error"] or "")[:ERROR_CHARS])}</td></tr>')


def summary_page(report: dict[str, Any], cards: list[str], counts: dict[str, int], pages: int,
                 page_of: dict[str, int]) -> str:
    """report.html: the summary, the failures (linked to their topics' cards), then the first page
    of the gallery and links to the others."""
    t = report["totals"]
    facts = [f"job <b>{text(report['job'])}</b>", f"manifest {text(report['manifest'])}",
             f"<b>{t['succeeded']}/{t['topics']}</b> succeeded", f"{t['failed']} failed",
             f"{t['cancelled']} cancelled",
             *([f"{t['budget_exhausted']} out of budget"] if t.get("budget_exhausted") else []),
             f"wall time {report['wall_s']:.1f} s",
             f"LLM calls {t['llm_calls']}", f"tokens in/out {t['input_tokens']}/{t['output_tokens']}",
             f"cost ${t['cost_usd']:.4f}" + (f" (+{t['unpriced_calls']} unpriced calls)"
                                             if t["unpriced_calls"] else "")]
    if t.get("batch_calls"):
        facts.append(f"{t['batch_calls']} answers from provider batches, ${t['batch_saved_usd']:.4f} less "
                     "than realtime")
    if report.get("budget"):
        facts.append("budget: " + text(budget_text(report["budget"])))
    if report["cancelled"]:
        facts.insert(0, "<b>the batch was cancelled</b>")
    body = [f"<header><h1>Batch {text(report['batch_id'])}</h1>",
            f'<div class="facts">{"".join(f"<span>{f}</span>" for f in facts)}</div>',
            f'<div class="muted">started {text(report["started_at"])}, finished '
            f'{text(report["finished_at"])}; every topic: <a href="results.jsonl">results.jsonl</a>, '
            f'<a href="report.json">report.json</a>, <a href="report.md">report.md</a></div></header><main>']
    if report["failures"]:
        more = t["failed"] + t["cancelled"] + t.get("budget_exhausted", 0) - len(report["failures"])
        body.append(f"<h2>Failures ({len(report['failures'])}"
                    + (f"; {more} more in results.jsonl" if more else "") + ")</h2>")
        body.append("<table><tr><th>topic</th><th>status</th><th>step</th><th>error</th></tr>")
        body += [_failure_row(f, page_of.get(f["id"], 1)) for f in report["failures"]]
        body.append("</table>")
    if report["models"]:
        body.append("<h2>Models</h2><table><tr><th>model</th><th>calls</th><th>answered</th><th>attempts"
                    "</th><th>cached</th><th>tokens in</th><th>tokens out</th><th>cost</th></tr>")
        body += [f"<tr><td>{text(name)}</td><td>{m['calls']}</td><td>{m['answered']}</td>"
                 f"<td>{m['attempts']}</td><td>{m['cached']}</td><td>{m['input_tokens']}</td>"
                 f"<td>{m['output_tokens']}</td><td>${m['cost_usd']:.4f}</td></tr>"
                 for name, m in sorted(report["models"].items())]
        body.append("</table>")
    body += [f"<h2>Topics</h2>{_pager(pages, 1, '')}", _filters(counts),
             f'<div class="grid">{"".join(cards)}</div></main>']
    return page(f"Batch {report['batch_id']}", body)


class HtmlReport:
    """report.html and its pages, built one topic at a time: a page of ``PER_PAGE`` topics is written
    (``write``: a function taking a path relative to the batch's folder and the page's text) once
    the next topic shows whether another follows; report.html, with the first page's topics and a
    link to every page, at the end."""

    def __init__(self, out_dir: str, write: Any) -> None:
        self.out_dir = out_dir
        self.write = write
        self.first: list[str] = []
        self.first_counts: dict[str, int] = {}
        self.cards: list[str] = []
        self.counts: dict[str, int] = {}
        self.number = 1  # the page being filled
        self.page_of: dict[str, int] = {}  # a failed topic's page

    def add(self, topic: dict[str, Any], media: ReportMedia, checks: list[ReportCheck], batch: str,
            index: int) -> None:
        number = index // PER_PAGE + 1
        if number != self.number:
            if self.cards:
                self._flush(batch, more=True)
            self.number = number
        if topic["status"] != "succeeded" and len(self.page_of) < 10_000:
            self.page_of[topic["id"]] = number
        if number == 1:
            self.first.append(card(topic, media, checks, self.out_dir))
            self.first_counts[topic["status"]] = self.first_counts.get(topic["status"], 0) + 1
            return
        self.cards.append(card(topic, media, checks, self.out_dir, PAGES_DIR))
        self.counts[topic["status"]] = self.counts.get(topic["status"], 0) + 1

    def _flush(self, batch: str, more: bool) -> None:
        self.write(page_path(self.number), gallery_page(batch, self.cards, self.counts, self.number, more))
        self.cards, self.counts = [], {}

    def finish(self, report: dict[str, Any]) -> None:
        """Write the last page and report.html."""
        if self.cards:
            self._flush(report["batch_id"], more=False)
        self.write(REPORT_HTML, summary_page(report, self.first, self.first_counts, self.number,
                                             self.page_of))
