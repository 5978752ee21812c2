"""Machine facts, Markdown tables, and writing a bench's results into its section of docs/benchmarks.md."""

from __future__ import annotations

import json
import math
import os
import platform
import shlex
import shutil
import subprocess
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

from bench.stack import REPO_ROOT, RESULTS_DIR

DOCS_PATH = REPO_ROOT / "docs" / "benchmarks.md"


def machine_facts() -> dict[str, str]:
    cpu_model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        "unknown",
    )
    memory_kib = next(
        int(line.split()[1])
        for line in Path("/proc/meminfo").read_text().splitlines()
        if line.startswith("MemTotal")
    )
    wrk = ""
    if shutil.which("wrk"):
        wrk = subprocess.run(["wrk", "--version"], capture_output=True, text=True, check=False).stdout.split(
            " ["
        )[0]
    return {
        "cores (nproc)": str(os.cpu_count()),
        "CPU": cpu_model,
        "memory": f"{memory_kib / 1024 / 1024:.1f} GiB",
        "kernel": platform.release(),
        "Python": platform.python_version(),
        "uvicorn / FastAPI": f"{version('uvicorn')} / {version('fastapi')}",
        "load generator": wrk or "wrk (not installed)",
    }


def command_line(module: str) -> str:
    return shlex.join([".venv/bin/python", "-m", module, *sys.argv[1:]])


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def ms(value: float, lower_bound: bool = False) -> str:
    if math.isnan(value):
        return "–"
    text = f"{value:.1f}" if value < 100 else f"{value:.0f}"
    return f"> {text}" if lower_bound else text


def verdict(met: bool) -> str:
    return "**met**" if met else "**not met**"


def section(module: str, title: str, body: str) -> str:
    facts = machine_facts()
    machine = "; ".join(f"{name}: {value}" for name, value in facts.items())
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True, check=False
    ).stdout.strip()
    return (
        f"### {title}\n\n"
        f"Run {stamp} at commit `{commit or 'unknown'}` with `{command_line(module)}`.\n\n"
        f"Machine: {machine}.\n\n{body.strip()}\n"
    )


def publish(name: str, markdown: str, raw: dict[str, Any], write_docs: bool) -> None:
    """Print the results, keep them under .local/bench/, and replace the bench's section of the docs."""
    print(markdown)
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    (RESULTS_DIR / f"{name}-{stamp}.md").write_text(markdown)
    (RESULTS_DIR / f"{name}-{stamp}.json").write_text(json.dumps(raw, indent=2, default=str))
    if not write_docs:
        return
    start, end = f"<!-- results:{name} -->", f"<!-- /results:{name} -->"
    document = DOCS_PATH.read_text() if DOCS_PATH.exists() else "# Benchmarks\n"
    block = f"{start}\n{markdown.strip()}\n{end}"
    if start in document and end in document:
        before, rest = document.split(start, 1)
        document = before + block + rest.split(end, 1)[1]
    else:
        document = document.rstrip() + f"\n\n{block}\n"
    DOCS_PATH.write_text(document)
    print(f"results written to {DOCS_PATH} and {RESULTS_DIR}/")
