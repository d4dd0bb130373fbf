"""The tally kind's step activity."""

from __future__ import annotations

import json
from pathlib import Path

from runner.activity.step import step_activity
from runner.contract.errors import PermanentStepError
from tally.types import WRITE_ACTIVITY, WriteInput, WriteOutput


class _Write:
    @step_activity(WRITE_ACTIVITY)
    async def write(self, inp: WriteInput) -> WriteOutput:
        if inp.refuse:
            raise PermanentStepError("asked to refuse")
        Path(inp.path).write_text(json.dumps({"topic": inp.topic, "count": inp.count}) + "\n")
        return WriteOutput(path=inp.path)


write = _Write().write
