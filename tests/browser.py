"""Headless Chromium (Debian's package, installed by `make test`) for tests of pages runner writes:
the page's DOM after its scripts ran, what it said on its console, and a screenshot."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@dataclass
class Loaded:
    dom: str
    console: list[str]  # every console message (errors and uncaught exceptions among them)


def chromium() -> str:
    found = shutil.which("chromium")
    assert found, "chromium is not installed (make test installs Debian's chromium package)"
    return found


def load(url: str) -> Loaded:
    """``url`` loaded in headless Chromium: the DOM its scripts left, and its console messages."""
    with tempfile.TemporaryDirectory(prefix="chromium-") as profile:
        done = subprocess.run([chromium(), *FLAGS, f"--user-data-dir={profile}", "--enable-logging=stderr",
                               "--v=0", "--dump-dom", url], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return Loaded(done.stdout, re.findall(r":CONSOLE[^\]]*\] (.*)", done.stderr))


def screenshot(url: str, png: Path, size: str = "1280,1000") -> Path:
    with tempfile.TemporaryDirectory(prefix="chromium-") as profile:
        done = subprocess.run([chromium(), *FLAGS, f"--user-data-dir={profile}", f"--screenshot={png}",
                               f"--window-size={size}", url], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and png.is_file(), done.stderr[-2000:]
    return png


def colours(png: Path) -> int:
    """How many distinct colours a screenshot holds (a blank page: one)."""
    from PIL import Image

    with Image.open(png) as image:
        return len(image.convert("RGB").getcolors(maxcolors=1 << 20) or [])
