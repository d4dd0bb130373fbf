"""Result files and reports in a batch's store (a local folder or an object store URL): written
whole, read back tolerantly."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from runner.contract.types import TopicResult
from runner.store.artifacts import join, store_for

REPORT_JSON = "report.json"
REPORT_MD = "report.md"
REPORT_HTML = "report.html"
RESULTS_JSONL = "results.jsonl"


def write_text_atomic(path: str | Path, text: str) -> None:
    """Write ``text`` so that a reader never sees half a file."""
    store_for(str(path)).write_text(str(path), text)


def write_json_atomic(path: str | Path, data: Any) -> None:
    """Write JSON so that a reader never sees half a file."""
    write_text_atomic(path, json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def load_result(path: str | None) -> TopicResult | None:
    """A topic's result file, or None if it is missing or unreadable."""
    if not path:
        return None
    try:
        return TopicResult.model_validate_json(store_for(path).read_bytes(path))
    except (OSError, ValidationError):
        return None


def load_report(output_dir: str | Path) -> dict[str, Any] | None:
    """A batch's report.json, or None if it is missing or unreadable (e.g. written by a worker on
    another machine to a folder this one does not see)."""
    path = join(str(output_dir), REPORT_JSON)
    try:
        report: dict[str, Any] = json.loads(store_for(path).read_bytes(path))
    except (OSError, ValueError):
        return None
    return report


def iter_results(output_dir: str | Path) -> Iterator[dict[str, Any]]:
    """A batch's results.jsonl, one topic at a time (nothing if it is missing)."""
    path = join(str(output_dir), RESULTS_JSONL)
    store = store_for(path)
    if not store.is_file(path):
        return
    with store.open_read(path) as f:
        for line in f:
            if line.strip():
                yield json.loads(line)
