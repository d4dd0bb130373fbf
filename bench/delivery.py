"""Benchmark: the same `prompt` manifest delivered realtime and through provider batches
(`delivery: batch`), side by side in one run, against the provider simulator (the real anthropic
SDK on loopback; Anthropic's Message Batches API, processed --batch-delay seconds after creation).

Each side gets a fresh simulator (full rate buckets, its own request log), an embedded Temporal
server and a `runner worker`; the catalog's sim-opus is paced at the simulator's --rpm (the realtime
side runs at the provider's limit, not at the shipped simulated catalog's 50 rpm). Printed per
side: wall time, topics succeeded, answers matched to their topics (each answer file holds its own
topic's prompt), cost from the report, and the requests the simulator saw (realtime calls, or
provider batches created); then the ratios.

The batch side's worker is killed (-9) once its first provider batch is created, and another
started: the windows and the provider batches the simulator saw created are printed side by side
(none is submitted twice).

Usage: python bench/delivery.py [--topics 200] [--rpm 600] [--latency 0.3] [--batch-delay 20]
       [--gather 5] [--no-kill]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml
from runs import RUNNER, served, start_worker, submit

from runner.client.server import _free_port
from runner.isolation.proc import dies_with_parent

REPO = Path(__file__).resolve().parents[1]


@contextlib.contextmanager
def simulator(work: Path, args: argparse.Namespace) -> Iterator[tuple[int, Path]]:
    """A provider simulator of its own (port, request log), stopped at the end."""
    port, log = _free_port(), work / "requests.jsonl"
    sim = subprocess.Popen([RUNNER, "simulate", "--port", str(port), "--rpm", str(args.rpm), "--latency",
                            str(args.latency), "--batch-delay", str(args.batch_delay), "--log", str(log)],
                           stdout=subprocess.PIPE, text=True, preexec_fn=dies_with_parent())
    try:
        assert sim.stdout is not None and "provider simulator on" in sim.stdout.readline()
        yield port, log
    finally:
        sim.terminate()
        sim.wait(10)


def manifest(name: str, topics: int, delivery: str) -> str:
    return (f"name: {name}\njob: prompt\nprompt: 'Define {{topic}} in a line.'\nconcurrency: {topics}\n"
            f"cache: off\nmodels: {{default: [sim-opus]}}\n{delivery}"
            f"topics: [{', '.join(f'term {i:05d}' for i in range(topics))}]\n")


def kill_while_polling(log: Path, workers: list[subprocess.Popen[bytes]], work: Path,
                       env: dict[str, str], done: threading.Event) -> None:
    """Once the first provider batch is created, kill the worker (-9) and start another; then wait
    for ``done`` (the new worker dies with the thread that started it: PR_SET_PDEATHSIG)."""
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        if log.exists() and any('"op": "create"' in line for line in log.read_text().splitlines()):
            workers[0].kill()
            workers[0].wait()
            time.sleep(1)
            workers.append(start_worker(work, env))
            print("  (batch side: worker killed -9 after the first provider batch was created; another "
                  "started)", flush=True)
            done.wait()
            return
        time.sleep(0.2)


def side(work: Path, args: argparse.Namespace, name: str, delivery: str,
         kill: bool = False) -> dict[str, Any]:
    work.mkdir()
    with simulator(work, args) as (port, log):
        catalog = work / "models.yaml"
        models = yaml.safe_load((REPO / "configs" / "models.simulated.yaml").read_text()
                                .replace("127.0.0.1:8765", f"127.0.0.1:{port}"))
        models["models"]["sim-opus"].update(rpm=args.rpm, tpm=args.rpm * 1000, max_concurrency=32)
        catalog.write_text(yaml.safe_dump(models))
        path = work / f"{name}.yaml"
        path.write_text(manifest(name, args.topics, delivery))
        with served(work, {"RUNNER_CATALOG": str(catalog), "RUNNER_SIM_KEY": "sk-bench"},
                    worker=False) as env:
            workers, done = [start_worker(work, env)], threading.Event()
            killer = threading.Thread(target=kill_while_polling, args=(log, workers, work, env, done),
                                      daemon=True) if kill else None
            try:
                if killer:
                    killer.start()
                wall, report = submit(path, env)
            finally:
                for w in workers:
                    w.terminate()
                    w.wait(30)
                done.set()
        seen = [json.loads(line) for line in log.read_text().splitlines()]
    matched = 0
    for line in (Path(report["output_dir"]) / "results.jsonl").read_text().splitlines():
        topic = json.loads(line)
        out = (topic.get("outputs") or {}).get("output")
        matched += bool(out) and f"Define {topic['topic']} in a line." in Path(out).read_text()
    return {"wall": wall, "report": report, "matched": matched,
            "realtime": sum(1 for e in seen if e.get("api") != "batch"),
            "batches": [e for e in seen if e.get("api") == "batch" and e.get("op") == "create"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--topics", type=int, default=200)
    parser.add_argument("--rpm", type=int, default=600, help="the simulator's requests a minute")
    parser.add_argument("--latency", type=float, default=0.3, help="seconds per realtime request")
    parser.add_argument("--batch-delay", type=float, default=20.0, help="seconds a provider batch takes")
    parser.add_argument("--gather", type=float, default=5.0, help="seconds a window gathers calls")
    parser.add_argument("--no-kill", action="store_true", help="do not kill the batch side's worker "
                        "while its first provider batch is polled")
    args = parser.parse_args()
    print(f"delivery: {args.topics} topics (prompt, sim-opus through the simulator: {args.rpm} rpm, "
          f"{args.latency} s a request, a provider batch takes {args.batch_delay:g} s), "
          f"concurrency {args.topics}", flush=True)
    with tempfile.TemporaryDirectory(prefix="bench-delivery-") as tmp:
        rt = side(Path(tmp) / "realtime", args, "realtime", "")
        bt = side(Path(tmp) / "batch", args, "batched",
                  f"delivery: {{gather: {args.gather}s, poll: 2s}}\n", kill=not args.no_kill)
    for label, r in (("realtime", rt), ("batch", bt)):
        t = r["report"]["totals"]
        sizes = ", ".join(str(b["requests"]) for b in r["batches"])
        windows = len(r["report"].get("provider_batches") or [])
        sent = (f"{r['realtime']} realtime requests" if label == "realtime" else
                f"{windows} window(s), {len(r['batches'])} provider batch(es) created, of {sizes} calls; "
                f"{r['realtime']} realtime requests")
        print(f"  {label:8}  wall {r['wall']:6.1f} s, {t['succeeded']}/{t['topics']} succeeded, "
              f"{r['matched']} answers matched to their topics, cost ${t['cost_usd']:.4f}, {sent}")
    cost = bt["report"]["totals"]["cost_usd"] / rt["report"]["totals"]["cost_usd"]
    print(f"  batch / realtime: {cost:.2f}x the cost, {bt['wall'] / rt['wall']:.2f}x the wall time")


if __name__ == "__main__":
    main()
