"""The generated references match the code (regenerate with `python -m runner.dev.docgen`)."""

from __future__ import annotations

import pytest

from runner.dev.docgen import generated


@pytest.mark.parametrize("path", list(generated()), ids=lambda p: p.name)
def test_generated_docs_are_current(path) -> None:  # type: ignore[no-untyped-def]
    assert path.read_text() == generated()[path], f"{path.name} is stale: run python -m runner.dev.docgen"
