"""Run in a fresh process: how much a worker's `decode_image` of one file raises the process's peak memory.

python -m tests.support.decode_memory FILE CONTENT_TYPE    # prints KiB above the RSS before the decode
"""

from __future__ import annotations

import sys
from pathlib import Path

from apps.core.images import decode_image


def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


def peak_growth_kib(data: bytes, content_type: str) -> int:
    Path("/proc/self/clear_refs").write_text("5")  # the peak (VmHWM) starts again from the current RSS
    before = _status_kib("VmRSS")
    image = decode_image(data, content_type, 40_000_000)
    grown = _status_kib("VmHWM") - before
    image.close()
    return grown


if __name__ == "__main__":
    print(peak_growth_kib(Path(sys.argv[1]).read_bytes(), sys.argv[2]))
