"""Benchmark: the demo batch with its output in a local folder vs in an object store, same run.

One embedded server, `runner worker` and `runner submit --wait --no-worker` as separate processes,
the offline model, real sympy, manim and ffmpeg (explainer, at low quality), the step cache off.
The object store is a real S3 API on loopback (moto in server mode, started by this script): what it
measures is runner's own cost of the store (staging every step's files in and out, one PUT per
file, reports and result files over HTTP), not a network's. The two sides alternate for --rounds rounds.

  local   output_dir: a local folder
  s3      output_dir: s3://bucket/demo: wall time, objects and bytes in the bucket
  ratio   s3 / local wall time (best of the rounds each)

Usage: python bench/store.py [--topics 3] [--concurrency 3] [--rounds 1] [--job explainer|prompt]
"""

from __future__ import annotations

import argparse
import logging
import os
import tempfile
import uuid
from pathlib import Path
from typing import Any

import yaml
from runs import served
from runs import submit as submit_and_wait

DEMO_TOPICS = ["Derivative of x^2", "The Pythagorean theorem", "Integral of sin(x) from 0 to pi"]


def topics(job: str, n: int) -> list[str]:
    """The demo's topics, then more the offline model renders (prompt: terms to define)."""
    if job == "prompt":
        return [f"term number {i}" for i in range(n)]
    return (DEMO_TOPICS + [f"Derivative of x^{k}" for k in range(3, n + 3)])[:n]


def submit(manifest: Path, job: str, out: str, items: list[str], concurrency: int,
           env: dict[str, str]) -> tuple[float, dict[str, Any]]:
    body: dict[str, Any] = {"name": "store", "job": job, "concurrency": concurrency,
                            "models": {"default": ["offline"]}, "output_dir": out, "cache": "off",
                            "topics": items}
    body.update({"prompt": "Define {topic}"} if job == "prompt" else {"quality": "low"})
    manifest.write_text(yaml.safe_dump(body, sort_keys=False))
    return submit_and_wait(manifest, env)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--topics", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--job", choices=("explainer", "prompt"), default="explainer")
    args = parser.parse_args()

    import boto3
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)  # a thread: dies with us
    moto.start()
    host, port = moto.get_host_and_port()
    aws = {"AWS_ENDPOINT_URL": f"http://{host}:{port}", "AWS_ACCESS_KEY_ID": "bench",
           "AWS_SECRET_ACCESS_KEY": uuid.uuid4().hex, "AWS_DEFAULT_REGION": "us-east-1"}
    os.environ.update(aws)  # this process reads the reports from the bucket too
    api = boto3.client("s3", endpoint_url=aws["AWS_ENDPOINT_URL"], region_name="us-east-1")
    api.create_bucket(Bucket="bench")
    items = topics(args.job, args.topics)
    walls: dict[str, list[float]] = {"local": [], "s3": []}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        try:
            with served(work, aws) as env:
                print(f"store: {args.topics} topics ({args.job}, offline model), concurrency "
                      f"{args.concurrency}, {args.rounds} round(s), sides alternating")
                for r in range(args.rounds):
                    for side, out in (("local", str(work / f"out-{r}")), ("s3", f"s3://bench/demo-{r}")):
                        wall, report = submit(work / "batch.yaml", args.job, out, items,
                                              args.concurrency, env)
                        t = report["totals"]
                        walls[side].append(wall)
                        extra = ""
                        if side == "s3":
                            pages = api.get_paginator("list_objects_v2").paginate(Bucket="bench",
                                                                                  Prefix=f"demo-{r}/")
                            objects = [o for page in pages for o in page.get("Contents", [])]
                            size = sum(o["Size"] for o in objects) / 1e6
                            extra = f", {len(objects)} objects, {size:.1f} MB in the bucket"
                        print(f"  {side:6} wall {wall:6.1f} s, {t['succeeded']}/{t['topics']} succeeded"
                              f"{extra}")
                local, s3 = min(walls["local"]), min(walls["s3"])
                print(f"  s3 / local: {s3 / local:.2f}x the wall time (best of {args.rounds} each: "
                      f"{s3:.1f} s vs {local:.1f} s)")
        finally:
            moto.stop()


if __name__ == "__main__":
    main()
