"""What the render sandbox costs: the same scenes rendered by manim directly (a plain subprocess,
as before the sandbox) and through `runner.isolation.sandbox` (namespaces, read-only root, fresh uid,
rlimits), interleaved so both see the same machine load. Prints wall time per render and the ratio.

    python bench/sandbox.py [ROUNDS] [SCENES]     (default 3 rounds of the 3 scenes of PICK)
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

from jobs.explainer.scenes.render import MANIM_CFG, SCENE_FILE, manim_argv, render_scene
from runner.isolation.proc import run
from runner.isolation.sandbox import isolation

SCENES = Path(__file__).resolve().parent.parent / "tests" / "scenes" / "ok"
PICK = ("text_write", "math_tex_equation", "axes_plot")


async def direct(code: str, cls: str, work: Path) -> float:
    scratch = Path(tempfile.mkdtemp(dir=work))
    (scratch / SCENE_FILE).write_text(code)
    (scratch / "manim.cfg").write_text(MANIM_CFG)
    started = time.monotonic()
    done = await run(manim_argv(str(scratch), cls, "low"), cwd=scratch, timeout=300)
    assert done.code == 0, done.stderr[-500:]
    return time.monotonic() - started


async def sandboxed(code: str, work: Path, i: int) -> float:
    started = time.monotonic()
    result = await render_scene(code, output=work / f"v{i}.mp4", timeout=300)
    assert result.outcome == "ok", result.message
    return time.monotonic() - started


async def main(rounds: int, scenes: int) -> None:
    iso = await isolation()
    print(f"sandbox on this machine: {iso.describe()}")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        plain: list[float] = []
        boxed: list[float] = []
        for r in range(rounds):
            for name in PICK[:scenes]:
                path = SCENES / f"{name}.py"
                code = path.read_text()
                cls = "".join(p.title() for p in name.split("_"))
                # alternate the order so neither always runs with a warm cache
                if r % 2:
                    boxed.append(await sandboxed(code, work, len(boxed)))
                    plain.append(await direct(code, cls, work))
                else:
                    plain.append(await direct(code, cls, work))
                    boxed.append(await sandboxed(code, work, len(boxed)))
    p, b = statistics.median(plain), statistics.median(boxed)
    print(f"{len(plain)} renders each (-ql, {', '.join(PICK[:scenes])})")
    print(f"manim directly:        median {p:.2f} s per scene")
    print(f"through the sandbox:   median {b:.2f} s per scene (lint + namespaces + jail + limits + cgroup)")
    print(f"sandbox / direct:      {b / p:.2f}x, +{b - p:.2f} s per scene")


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 3,
                     int(sys.argv[2]) if len(sys.argv) > 2 else len(PICK)))
