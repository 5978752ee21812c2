"""Fill the image's wheel folder from the app lock, so the build itself never downloads anything.

Usage: ``python -m tools.image.wheels LOCK CACHE DEST``. Every pin that a Linux x86_64 CPython 3.11 may need
is resolved to a wheel whose SHA-256 is one of the lock's hashes: taken from CACHE (kept between runs) when
there, otherwise downloaded into CACHE by pip for that platform (binary wheels only). DEST is then rebuilt
from scratch with exactly those files. The image's pip installs them again with --require-hashes.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from packaging.markers import Marker

from tools.lock.locks import Pin, parse_lock

# The image's interpreter: Debian bookworm's python3 (3.11.2) here, python:3.11-slim-bookworm on GitHub.
# A marker is kept when it holds for any 3.11 patch release.
TARGET_ENVIRONMENTS = [
    {
        "implementation_name": "cpython",
        "os_name": "posix",
        "platform_machine": "x86_64",
        "platform_python_implementation": "CPython",
        "platform_system": "Linux",
        "python_version": "3.11",
        "python_full_version": full_version,
        "sys_platform": "linux",
        "extra": "",
    }
    for full_version in ("3.11.0", "3.11.2", "3.11.99")
]
# Bookworm's glibc is 2.36: any manylinux wheel up to 2.36 (pip does not expand a --platform by itself).
MANYLINUX = [f"manylinux_2_{minor}_x86_64" for minor in range(36, 4, -1)]
MANYLINUX += ["manylinux2014_x86_64", "manylinux2010_x86_64", "manylinux1_x86_64"]
PIP_PLATFORM = [arg for tag in MANYLINUX for arg in ("--platform", tag)]
PIP_PLATFORM += ["--implementation", "cp", "--python-version", "3.11"]


class WheelError(RuntimeError):
    pass


def needed_on_target(pin: Pin) -> bool:
    if pin.marker is None:
        return True
    marker = Marker(pin.marker)
    return any(marker.evaluate(environment) for environment in TARGET_ENVIRONMENTS)


def sha256(path: Path) -> str:
    with path.open("rb") as stream:
        return hashlib.file_digest(stream, "sha256").hexdigest()


def index_cache(cache: Path) -> dict[str, Path]:
    return {sha256(path): path for path in cache.glob("*.whl")}


def download(pins: list[Pin], cache: Path) -> None:
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as requirements:
        for pin in pins:
            hashes = " ".join(f"--hash={value}" for value in pin.hashes)
            requirements.write(f"{pin.name}=={pin.version} {hashes}\n")
    try:
        command = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:"]
        command += [*PIP_PLATFORM, "--require-hashes", "-r", requirements.name, "-d", str(cache)]
        completed = subprocess.run(command, capture_output=True, text=True, check=False)
    finally:
        os.unlink(requirements.name)
    if completed.returncode != 0:
        raise WheelError(f"pip could not download the wheels:\n{completed.stderr.strip()[-2000:]}")


def collect(lock: Path, cache: Path, dest: Path) -> list[Path]:
    pins = [pin for pin in parse_lock(lock.read_text(encoding="utf-8")).values() if needed_on_target(pin)]
    cache.mkdir(parents=True, exist_ok=True)
    by_hash = index_cache(cache)
    missing = [
        pin for pin in pins if not any(value.removeprefix("sha256:") in by_hash for value in pin.hashes)
    ]
    if missing:
        print(f"downloading {len(missing)} wheel(s) into {cache}", flush=True)
        download(missing, cache)
        by_hash = index_cache(cache)
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    chosen = []
    for pin in pins:
        found = [
            by_hash[value.removeprefix("sha256:")]
            for value in pin.hashes
            if value.removeprefix("sha256:") in by_hash
        ]
        if not found:
            raise WheelError(f"no wheel of {pin.name}=={pin.version} matches the lock's hashes")
        chosen.append(Path(shutil.copy2(found[0], dest / found[0].name)))
    return chosen


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        chosen = collect(Path(argv[0]), Path(argv[1]), Path(argv[2]))
    except WheelError as error:
        print(f"wheels: {error}", file=sys.stderr)
        return 1
    print(f"{len(chosen)} wheels in {argv[2]}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
