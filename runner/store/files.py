"""Result files and reports on a shared file system: written atomically, read back tolerantly."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from runner.contract.types import TopicResult

REPORT_JSON = "report.json"
REPORT_MD = "report.md"
RESULTS_JSONL = "results.jsonl"


def write_text_atomic(path: Path, text: str) -> None:
    """Write ``text`` so that a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def write_json_atomic(path: Path, data: Any) -> None:
    """Write JSON so that a reader never sees half a file."""
    write_text_atomic(path, json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def load_result(path: str | None) -> TopicResult | None:
    """A topic's result file, or None if it is missing or unreadable."""
    if not path or not Path(path).is_file():
        return None
    try:
        return TopicResult.model_validate_json(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValidationError):
        return None


def load_report(output_dir: str | Path) -> dict[str, Any] | None:
    """A batch's report.json, or None if it is missing or unreadable (e.g. written by a worker on
    another machine)."""
    try:
        report: dict[str, Any] = json.loads((Path(output_dir) / REPORT_JSON).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return report


def iter_results(output_dir: str | Path) -> Iterator[dict[str, Any]]:
    """A batch's results.jsonl, one topic at a time (nothing if it is missing)."""
    try:
        f = (Path(output_dir) / RESULTS_JSONL).open(encoding="utf-8")
    except OSError:
        return
    with f:
        for line in f:
            if line.strip():
                yield json.loads(line)
