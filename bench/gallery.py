"""The scene gallery (tests/scenes/gallery/: ordinary scenes in the styles of manim's documentation
examples) through the whole render path: the known-API check and the policy lint, then manim in
the sandbox at low quality, one scene at a time. Prints how many passed the lint, how many
rendered, and the render times.

    python bench/gallery.py [--limit N] [--quality low|medium|high]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from jobs.explainer.scenes.check import check_scene
from jobs.explainer.scenes.render import render_scene

GALLERY = Path(__file__).resolve().parent.parent / "tests" / "scenes" / "gallery"


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=0, help="the first N scenes only (0: all)")
    parser.add_argument("--quality", choices=("low", "medium", "high"), default="low")
    args = parser.parse_args()
    scenes = sorted(GALLERY.glob("*.py"))
    scenes = scenes[:args.limit] if args.limit else scenes
    refused = [p.name for p in scenes if not check_scene(p.read_text()).ok]
    times: dict[str, float] = {}
    failed: dict[str, str] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for path in scenes:
            started = time.monotonic()
            result = await render_scene(path.read_text(), output=Path(tmp) / f"{path.stem}.mp4",
                                        quality=args.quality, timeout=300, name=path.name)
            times[path.name] = time.monotonic() - started
            if result.outcome != "ok":
                failed[path.name] = result.message.splitlines()[-1] if result.message else result.outcome
    print(f"gallery: {len(scenes)} scenes at {args.quality} quality, one at a time")
    print(f"  lint: {len(scenes) - len(refused)}/{len(scenes)} passed" +
          (f" (refused: {', '.join(refused)})" if refused else ""))
    print(f"  render: {len(scenes) - len(failed)}/{len(scenes)} rendered" +
          (f" (failed: {failed})" if failed else ""))
    slowest = max(times, key=times.__getitem__)
    print(f"  render time: median {statistics.median(times.values()):.1f} s, total "
          f"{sum(times.values()):.0f} s, slowest {slowest} {times[slowest]:.1f} s")


if __name__ == "__main__":
    asyncio.run(main())
