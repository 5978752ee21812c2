"""Memory of image verification under concurrent worst-case uploads (issue 10's goal: 16 at once keep the
API under +512 MB RSS, while bombs and mismatches are still refused), and of the worker's decode of one.

    .venv/bin/python -m bench.image_memory [--concurrency 16]

Each scenario runs in a fresh Python process: `concurrency` threads (as the API's request threads) call the
API's check (`apps.core.images.check_image_header` with the settings' limits, on the whole file: the most
the API ever holds) on the same worst-case file at once, while a sampler reads the process' RSS every 5 ms;
then, for a file the check accepted, the worker's decode (`decode_image`, one image at a time per worker
process) in the same way. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import io
import json
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

SCENARIOS = {
    # name: (format, size, declared type)
    "WebP 16383×2400 (the issue's bomb)": ("WEBP", (16383, 2400), "image/webp"),
    "WebP 4000×3000 (largest common photo)": ("WEBP", (4000, 3000), "image/webp"),
    "PNG 6000×6000 (36 Mpx)": ("PNG", (6000, 6000), "image/png"),
    "HEIC 4000×3000": ("HEIF", (4000, 3000), "image/heic"),
    "JPEG 6000×6000 declared PNG (mismatch)": ("JPEG", (6000, 6000), "image/png"),
}
SCRATCH = Path("/tmp/eco2-bench-image")


def encode(fmt: str, size: tuple[int, int]) -> bytes:
    import pillow_heif
    from PIL import Image

    pillow_heif.register_heif_opener()
    buffer = io.BytesIO()
    Image.new("RGB", size, (40, 120, 200)).save(buffer, format=fmt)
    return buffer.getvalue()


def _rss() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def _peak_growth(work: Callable[[], list[str]]) -> tuple[int, float, list[str]]:
    """Run `work` while sampling RSS: (growth of the peak over the start, seconds, outcomes)."""
    baseline, peak, stop = _rss(), [0], threading.Event()

    def sample() -> None:
        while not stop.is_set():
            peak[0] = max(peak[0], _rss())
            time.sleep(0.005)

    sampler = threading.Thread(target=sample)
    sampler.start()
    started = time.monotonic()
    outcomes = work()
    elapsed = time.monotonic() - started
    stop.set()
    sampler.join()
    return max(peak[0] - baseline, 0), elapsed, outcomes


def measure(declared: str, concurrency: int) -> dict[str, Any]:
    """In the child process: check SCRATCH from `concurrency` threads at once, then decode it once."""
    from apps.core.images import InvalidImage, check_image_header, decode_image
    from apps.core.settings import get_settings

    data = SCRATCH.read_bytes()
    settings = get_settings()

    def check(_: int) -> str:
        try:
            check_image_header(
                data, declared, settings.image_max_pixels, settings.image_decode_memory_bytes, complete=True
            )
        except InvalidImage as error:
            return f"refused ({str(error)[:48]})"
        return "accepted"

    def checks() -> list[str]:
        with ThreadPoolExecutor(concurrency) as pool:
            return list(pool.map(check, range(concurrency)))

    growth, elapsed, outcomes = _peak_growth(checks)
    decode_growth: int | None = None
    if "accepted" in outcomes:
        decode_growth, _, _ = _peak_growth(
            lambda: [decode_image(data, declared, settings.image_max_pixels).mode]
        )
    return {
        "growth": growth,
        "elapsed": elapsed,
        "outcomes": outcomes,
        "bytes": len(data),
        "decode_growth": decode_growth,
    }


def scenario(name: str, concurrency: int) -> str:
    fmt, size, declared = SCENARIOS[name]
    SCRATCH.write_bytes(encode(fmt, size))  # encoded here: the source image must not inflate the child
    child = [
        sys.executable,
        "-m",
        "bench.image_memory",
        "--child",
        declared,
        "--concurrency",
        str(concurrency),
    ]
    completed = subprocess.run(child, capture_output=True, text=True, check=True)
    result = json.loads(completed.stdout.strip().splitlines()[-1])
    outcomes = "; ".join(f"{count}× {outcome}" for outcome, count in Counter(result["outcomes"]).items())
    decode = result["decode_growth"]
    worker = "not decoded (refused)" if decode is None else f"+{decode / 2**20:.0f} MB"
    return (
        f"| {name} | {result['bytes'] / 1024:.0f} KB | +{result['growth'] / 2**20:.0f} MB "
        f"| {result['elapsed']:.2f} s | {outcomes} | {worker} |"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.image_memory", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--child", metavar="DECLARED_TYPE", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(measure(args.child, args.concurrency)))
        return 0
    print(
        f"| upload ({args.concurrency} at once) | file | API RSS peak | wall time | outcomes "
        "| worker decode of one: RSS peak |"
    )
    print("|---|---|---|---|---|---|")
    for name in SCENARIOS:
        print(scenario(name, args.concurrency), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
