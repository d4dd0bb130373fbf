"""Benchmark: regeneration of only what changed, through the step cache, measured side by side.

One embedded server, `runner worker` and `runner submit --wait --no-worker` as separate processes,
the offline model, real sympy, manim and ffmpeg (explainer), one step cache:

  first     a batch of N topics, the cache empty: wall time, LLM calls, renders
  plan      `runner plan` after editing one topic's text and adding --add topics: its exit code and
            which topics it names as work
  again     the edited manifest submitted: wall time, LLM calls, renders, steps from the cache
  ratios    again / first for wall time and LLM calls, beside the share of real work

Usage: python bench/regenerate.py [--topics 6] [--add 1] [--concurrency 1] [--job explainer|prompt]
(the acceptance's cases: --topics 6 --add 1, and --topics 50 --add 0)
"""

from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import yaml
from runs import RUNNER, served, submit


def topics(job: str, n: int) -> list[str]:
    """``n`` distinct topics the offline model answers (and, for the explainer, renders)."""
    if job == "prompt":
        return [f"term number {i}" for i in range(n)]
    return [f"Derivative of x^{k}" for k in range(2, n + 2)]


def write(path: Path, job: str, items: list[str], concurrency: int, cache: Path) -> None:
    body: dict[str, Any] = {"name": "regenerate", "job": job, "concurrency": concurrency,
                            "models": {"default": ["offline"]}, "output_dir": str(path.parent / "out"),
                            "cache": str(cache), "topics": items}
    body.update({"prompt": "Define {topic}"} if job == "prompt" else {"quality": "low"})
    path.write_text(yaml.safe_dump(body, sort_keys=False))


def ran(report: dict[str, Any], step: str) -> int:
    return int((report.get("steps") or {}).get(step, {}).get("ran", 0))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--topics", type=int, default=6)
    parser.add_argument("--add", type=int, default=1, help="topics added besides the one edited")
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--job", choices=("explainer", "prompt"), default="explainer")
    args = parser.parse_args()
    work_step = "render" if args.job == "explainer" else "write"
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        cache, path = work / "cache", work / "batch.yaml"
        with served(work) as env:
            items = topics(args.job, args.topics + args.add + 1)
            first_items = items[:args.topics]
            write(path, args.job, first_items, args.concurrency, cache)
            wall1, first = submit(path, env)
            t1 = first["totals"]
            print(f"{args.job}: {args.topics} topics, concurrency {args.concurrency}, offline model")
            print(f"  first  wall {wall1:7.1f} s, {t1['succeeded']}/{t1['topics']} succeeded, "
                  f"LLM calls {t1['llm_calls']}, {work_step} ran {ran(first, work_step)}")
            edited = [items[-1], *first_items[1:], *items[args.topics:args.topics + args.add]]
            write(path, args.job, edited, args.concurrency, cache)
            plan = subprocess.run([RUNNER, "plan", str(path), "--json"], env=env, capture_output=True,
                                  text=True, timeout=600, check=False)
            planned = json.loads(plan.stdout)
            work_ids = [t["id"] for t in planned["topics"] if not t["up_to_date"]]
            topics_word = "topic" if len(work_ids) == 1 else "topics"
            print(f"  plan   exit {plan.returncode}: {len(work_ids)} {topics_word} with work "
                  f"({', '.join(work_ids[:5])}{' ...' if len(work_ids) > 5 else ''}), "
                  f"{planned['totals']['cached']} cached (edited 1, added {args.add})")
            wall2, again = submit(path, env)
            t2 = again["totals"]
            print(f"  again  wall {wall2:7.1f} s, {t2['succeeded']}/{t2['topics']} succeeded, "
                  f"LLM calls {t2['llm_calls']}, {work_step} ran {ran(again, work_step)}, "
                  f"steps from the cache {t2['cached_steps']}")
            share = (1 + args.add) / len(edited)
            calls = t2["llm_calls"] / t1["llm_calls"] if t1["llm_calls"] else float("nan")
            print(f"  again / first: wall {wall2 / wall1:.2f}x, LLM calls {calls:.3f}x "
                  f"(real work {1 + args.add}/{len(edited)} = {share:.2f} of the topics)")


if __name__ == "__main__":
    main()
