"""The prompt job's activity: write one answer file."""

from __future__ import annotations

import json
import os
from pathlib import Path

from jobs.prompt.types import WRITE_ACTIVITY, WriteInput, WriteOutput
from runner.activity.step import step_activity


class PromptActivities:
    @step_activity(WRITE_ACTIVITY)
    async def write(self, inp: WriteInput) -> WriteOutput:
        """Write the answer (text as is, JSON pretty-printed), atomically."""
        path = Path(inp.path)
        path.parent.mkdir(parents=True, exist_ok=True)
        body = inp.text if inp.text is not None else json.dumps(inp.data, indent=2, ensure_ascii=False)
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(body + ("" if body.endswith("\n") else "\n"), encoding="utf-8")
        os.replace(tmp, path)
        return WriteOutput(path=str(path), bytes=path.stat().st_size)

    def activities(self) -> list[object]:
        return [self.write]
