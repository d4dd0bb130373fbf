"""Where runner keeps its state on this machine: ``$RUNNER_HOME``, else ``./.runner``."""

from __future__ import annotations

import os
from pathlib import Path

HOME_ENV = "RUNNER_HOME"


def runner_home() -> Path:
    """The state directory: ``$RUNNER_HOME``, else ``./.runner``."""
    return Path(os.environ.get(HOME_ENV) or ".runner").resolve()
