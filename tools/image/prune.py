"""What the image's build stage removes from the virtualenv, and the debug symbols it strips (issue #8).

Usage (apps/Dockerfile, build stage only): ``python3 prune.py SITE_PACKAGES``. Standard library only: it runs
with the build stage's interpreter before the runtime stage copies the virtualenv.

Every rule is here, each with the reason serving never loads what it matches. A path is removed when a
PRUNED pattern matches it and no KEPT pattern does. Patterns are relative to site-packages; ``*`` matches
within one path segment, ``**`` any number of segments. Then every ELF shared object left, except the
bundled ones of NOT_STRIPPED, is stripped of its debug symbols (``strip --strip-unneeded``, binutils in the
build stage only).
tests/delivery/test_prune.py checks that nothing the entry points import, nor botocore's data for the
clients the app and botocore's credential providers create, is ever matched.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from functools import cache
from pathlib import Path

PRUNED: dict[str, str] = {
    "**/tests/**": "test suites shipped inside packages (17 MB here, nearly all numpy's)",
    "sqlalchemy/testing/**": "SQLAlchemy's test harness, a pytest plugin",
    "alembic/testing/**": "Alembic's test harness, a pytest plugin",
    "numpy/f2py/**": "the Fortran wrapper generator, a build tool numpy only imports on demand",
    "numpy/distutils/**": "numpy's deprecated build helpers, imported only on demand",
    "numpy/_core/include/**": "C headers for compiling against numpy",
    "numpy/_core/lib/**": "the static npymath library and pkg-config files, for compiling against numpy",
    "**/*.pyi": "type stubs, read by type checkers only",
    "**/*.h": "C headers",
    "**/*.pxd": "Cython declarations",
    "**/*.pyx": "Cython sources of extensions already compiled",
    "onnxruntime/transformers/**": "onnxruntime's model optimisation scripts (the app runs a finished model)",
    "onnxruntime/quantization/**": "onnxruntime's quantization tooling",
    "onnxruntime/tools/**": "onnxruntime's model conversion and inspection scripts",
    "botocore/data/*/**": "API models of the AWS services the app never calls (the kept ones are in KEPT)",
    "holidays/locale/**/*.po": "translation sources; holidays loads the compiled .mo catalogues",
    "onnxruntime/capi/libonnxruntime.so.*": (
        "onnxruntime's C API library, for programs that link it: the Python binding carries its own copy "
        "of the runtime (its ELF NEEDED list does not name this file)"
    ),
}

KEPT: dict[str, str] = {
    "botocore/data/s3/**": "apps/core/storage.py: the one AWS client the app creates",
    "botocore/data/sts/**": "botocore's assume-role and web-identity (IRSA) credential providers",
    "botocore/data/sso/**": "botocore's SSO credential provider",
    "botocore/data/sso-oidc/**": "botocore's SSO token provider",
    "botocore/data/signin/**": "botocore's login credential provider",
}

# Libraries that auditwheel bundled and patchelf rewrote: strip breaks their program headers (numpy's
# OpenBLAS then fails to load: "ELF load command address/offset not page-aligned"); they keep their symbols.
NOT_STRIPPED = "*.libs/**"
ELF_MAGIC = b"\x7fELF"


@cache
def _regex(pattern: str) -> re.Pattern[str]:
    """``**`` first or in the middle: any folders; last: anything below; ``*``: within one segment."""
    segments = pattern.split("/")
    parts = []
    for index, segment in enumerate(segments):
        last = index == len(segments) - 1
        if segment == "**":
            parts.append(".+" if last else "(?:[^/]+/)*")
        else:
            parts.append(re.escape(segment).replace(r"\*", "[^/]*") + ("" if last else "/"))
    return re.compile("".join(parts))


def matches(pattern: str, relative: str) -> bool:
    return _regex(pattern).fullmatch(relative) is not None


def is_pruned(relative: str) -> bool:
    """Whether the file at this site-packages-relative POSIX path leaves the image."""
    if any(matches(pattern, relative) for pattern in KEPT):
        return False
    return any(matches(pattern, relative) for pattern in PRUNED)


def prune(site_packages: Path) -> tuple[int, int]:
    """Remove every pruned file (and the folders that leaves empty); returns (files, bytes) removed."""
    files = removed_bytes = 0
    for path in sorted(site_packages.rglob("*")):
        if path.is_symlink() or not path.is_file():
            continue
        if is_pruned(path.relative_to(site_packages).as_posix()):
            removed_bytes += path.stat().st_size
            path.unlink()
            files += 1
    for folder in sorted((p for p in site_packages.rglob("*") if p.is_dir()), reverse=True):
        if not any(folder.iterdir()):
            folder.rmdir()
    return files, removed_bytes


def strippable_libraries(site_packages: Path) -> list[Path]:
    """Every ELF shared object outside NOT_STRIPPED."""
    found = []
    for path in sorted(site_packages.rglob("*.so*")):
        if matches(NOT_STRIPPED, path.relative_to(site_packages).as_posix()):
            continue
        if path.is_file() and not path.is_symlink():
            with path.open("rb") as stream:
                if stream.read(4) == ELF_MAGIC:
                    found.append(path)
    return found


def strip_debug_symbols(site_packages: Path) -> int:
    """``strip --strip-unneeded`` the strippable libraries; returns the bytes saved."""
    strip = shutil.which("strip")
    if strip is None:
        raise SystemExit("prune: strip not found: the build stage needs binutils")
    libraries = strippable_libraries(site_packages)
    before = sum(path.stat().st_size for path in libraries)
    subprocess.run([strip, "--strip-unneeded", *map(str, libraries)], check=True)
    return before - sum(path.stat().st_size for path in libraries)


def main(argv: list[str]) -> int:
    if len(argv) != 1 or not Path(argv[0]).is_dir():
        print(__doc__, file=sys.stderr)
        return 2
    site_packages = Path(argv[0])
    files, removed = prune(site_packages)
    saved = strip_debug_symbols(site_packages)
    print(f"prune: {files} files ({removed / 1e6:.1f} MB) removed, {saved / 1e6:.1f} MB of symbols stripped")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
