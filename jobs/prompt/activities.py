"""The prompt job's activity: write one answer file."""

from __future__ import annotations

import json
from pathlib import Path

from jobs.prompt.types import WRITE_ACTIVITY, WriteInput, WriteOutput
from runner.activity.step import step_activity
from runner.store.files import write_text_atomic


class PromptActivities:
    @step_activity(WRITE_ACTIVITY)
    async def write(self, inp: WriteInput) -> WriteOutput:
        """Write the answer (text as is, JSON pretty-printed), atomically."""
        path = Path(inp.path)
        body = inp.text if inp.text is not None else json.dumps(inp.data, indent=2, ensure_ascii=False)
        write_text_atomic(path, body + ("" if body.endswith("\n") else "\n"))
        return WriteOutput(path=str(path), bytes=path.stat().st_size)

    def activities(self) -> list[object]:
        return [self.write]
