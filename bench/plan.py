"""``make plan STACK=prod`` against its goal (≤ 10 s), beside the bare program run it wraps.

Each round runs, as separate processes, ``python -m tools.plan.stack_runner prod`` (the program under the
mock engine, nothing else) and ``python -m tools.plan prod`` (the whole plan: program, schemas, CRDs, policy,
cost, critical path, folder). Wall time and the CPU time of the child are recorded, with the 1-minute load
average before each run: on a shared machine the wall time mostly measures the other processes.

Usage: ``.venv/bin/python -m bench.plan [--rounds 3] [--stack prod] [--no-docs]``.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench.report import publish, section, table
from bench.stack import REPO_ROOT

GOAL_SECONDS = 10.0


@dataclass(frozen=True)
class Timing:
    wall: float
    cpu: float
    load: float


def timed(command: list[str]) -> Timing:
    load = os.getloadavg()[0]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(command, cwd=REPO_ROOT, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Timing(wall, cpu, load)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--stack", default="prod", choices=["dev", "prod"])
    parser.add_argument("--no-docs", action="store_true", help="leave docs/benchmarks.md untouched")
    args = parser.parse_args()
    env_python = sys.executable
    program: list[Timing] = []
    plan: list[Timing] = []
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(args.rounds):
            program.append(
                timed([env_python, "-m", "tools.plan.stack_runner", args.stack, str(Path(tmp) / "run.json")])
            )
            plan.append(timed([env_python, "-m", "tools.plan", args.stack, "--out", tmp]))
    rows = [
        [str(index + 1), f"{p.wall:.1f}", f"{p.cpu:.1f}", f"{q.wall:.1f}", f"{q.cpu:.1f}", f"{q.load:.1f}"]
        for index, (p, q) in enumerate(zip(program, plan, strict=True))
    ]
    wall = statistics.median(t.wall for t in plan)
    cpu = statistics.median(t.cpu for t in plan)
    ratio = statistics.median(q.wall / p.wall for p, q in zip(program, plan, strict=True))
    body = "\n\n".join(
        [
            table(
                ["round", "program wall s", "program CPU s", "plan wall s", "plan CPU s", "load (1 min)"],
                rows,
            ),
            f"Median `make plan STACK={args.stack}`: **{wall:.1f} s** wall ({cpu:.1f} s CPU); goal ≤ "
            f"{GOAL_SECONDS:g} s: {'**met**' if wall <= GOAL_SECONDS else '**not met**'}. "
            f"The plan takes {ratio:.2f}× the bare program run it wraps.",
        ]
    )
    markdown = section("bench.plan", f"make plan STACK={args.stack}", body)
    raw = {"program": [t.__dict__ for t in program], "plan": [t.__dict__ for t in plan], "stack": args.stack}
    publish("plan", markdown, raw, write_docs=not args.no_docs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
