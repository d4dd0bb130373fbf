"""Benchmark: the demo batch with narration (voice, subtitles, thumbnail) vs without, same run.

One embedded server, `runner worker` and `runner submit --wait --no-worker` as separate processes,
the offline model and the offline voice (espeak-ng), real manim and ffmpeg at low quality, the step
cache off. The two sides alternate for --rounds rounds.

  silent     narration: off (scene videos copied together)
  narrated   narration: on: one speech call per sentence, scenes held for their voice, H.264 + AAC
             re-encode, .srt/.vtt and a thumbnail
  ratio      narrated / silent wall time (best of the rounds each)

Usage: python bench/narration.py [--topics 3] [--concurrency 3] [--rounds 1] [--topic TEXT ...]
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path
from typing import Any

import yaml
from runs import served
from runs import submit as submit_and_wait

DEMO_TOPICS = ["Derivative of x^2", "The Pythagorean theorem", "Integral of sin(x) from 0 to pi"]


def submit(manifest: Path, out: Path, items: list[str], concurrency: int, narration: bool,
           env: dict[str, str]) -> tuple[float, dict[str, Any]]:
    manifest.write_text(yaml.safe_dump({
        "name": "narration", "job": "explainer", "concurrency": concurrency, "quality": "low",
        "narration": narration, "models": {"default": ["offline"]}, "output_dir": str(out),
        "cache": "off", "topics": items}, sort_keys=False))
    return submit_and_wait(manifest, env)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--topics", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--topic", action="append", default=None,
                        help="a topic to use instead of the demo's (repeatable)")
    args = parser.parse_args()
    items = args.topic or (DEMO_TOPICS + [f"Derivative of x^{k}" for k in range(3, args.topics + 3)])
    items = items[:args.topics]
    walls: dict[str, list[float]] = {"silent": [], "narrated": []}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        with served(work) as env:
            print(f"narration: {args.topics} topics (explainer, offline model and voice, quality low), "
                  f"concurrency {args.concurrency}, {args.rounds} round(s), sides alternating")
            for r in range(args.rounds):
                for side in ("silent", "narrated"):
                    out = work / f"out-{side}-{r}"
                    wall, report = submit(work / "batch.yaml", out, items, args.concurrency,
                                          side == "narrated", env)
                    walls[side].append(wall)
                    t = report["totals"]
                    speech = sum(1 for line in (out / "results.jsonl").open()
                                 for s in json.loads(line)["steps"] if s["name"].startswith("narrate ("))
                    videos = sum(float(json.loads(line)["outputs"].get("duration_s") or 0)
                                 for line in (out / "results.jsonl").open())
                    print(f"  {side:9} wall {wall:6.1f} s, {t['succeeded']}/{t['topics']} succeeded, "
                          f"{speech} speech calls, {videos:.1f} s of video")
            silent, narrated = min(walls["silent"]), min(walls["narrated"])
            print(f"  narrated / silent: {narrated / silent:.2f}x the wall time (best of {args.rounds} "
                  f"each: {narrated:.1f} s vs {silent:.1f} s)")


if __name__ == "__main__":
    main()
