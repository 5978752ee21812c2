"""Byte code in the image only for what its processes import when they start (issue #8).

Usage (apps/Dockerfile, build stage, after pip compiled everything): ``python3 bytecode.py VENV_PYTHON
SITE_PACKAGES``. Standard library only. The root filesystem is read-only, so a module without byte code is
compiled in memory each time a process imports it: harmless for what only a rare path imports, a cost at
every start for what every start imports. So the build runs the start-up (STARTUP below, without any network
or service) in the virtualenv's interpreter, keeps the ``.pyc`` of every module it imported, and removes the
others; every source file stays. The app's own package keeps all of its byte code (tasks import parts of it
on demand). ``make image-test`` measures the containers' time to ready, which would grow if STARTUP missed
what the processes import.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

# What the processes import on their way to ready, beyond their modules' own imports: the service app with
# every domain (`ecoeco serve all`), uvicorn's server machinery, the worker and beat under celery's command
# line, the migration, the database engine, the S3 client, the image plugins and the optional OpenAI analyzer.
STARTUP = """
import importlib
import PIL.Image
import uvicorn
from apps.core.db import get_engine
from apps.core.settings import get_settings
from apps.core.storage import make_s3_client
from apps.main import DOMAIN_ROUTERS, create_app
app = create_app(list(DOMAIN_ROUTERS))
uvicorn.Config(app, log_config=None).load()
get_engine()
make_s3_client(get_settings())
PIL.Image.init()
for name in (
    "apps.cli", "apps.worker", "apps.core.migrate", "alembic.command", "alembic.runtime.migration",
    "apps.waste.analysis.openai_vision", "apps.waste.analysis.llm_coach",
    "celery.bin.celery", "celery.apps.worker", "celery.apps.beat", "celery.beat",
    "celery.worker.components", "celery.worker.consumer", "celery.worker.autoscale",
    "celery.concurrency.prefork", "celery.backends.redis", "kombu.transport.pyamqp", "kombu.transport.redis",
):
    importlib.import_module(name)
import json, sys
print(json.dumps(sorted({m.__file__ for m in list(sys.modules.values()) if getattr(m, "__file__", None)})))
"""
KEEP_ALL_UNDER = ("apps/",)  # the app's own code: every module keeps its byte code


class StartupFailed(RuntimeError):
    pass


def imported_sources(python: str) -> set[str]:
    """The files of every module the start-up imports, run in the virtualenv's interpreter."""
    # Local settings: the build has no deployment's keys, and the probe connects to nothing.
    environment = {**os.environ, "ECO2_ENVIRONMENT": "local", "PYTHONDONTWRITEBYTECODE": "1"}
    completed = subprocess.run(
        [python, "-c", STARTUP], capture_output=True, text=True, env=environment, check=False
    )
    if completed.returncode != 0:
        raise StartupFailed(f"the start-up probe failed:\n{completed.stderr.strip()[-3000:]}")
    return {str(Path(name).resolve()) for name in json.loads(completed.stdout.splitlines()[-1])}


def source_of(bytecode: Path) -> Path:
    """``pkg/__pycache__/mod.cpython-311.pyc`` → ``pkg/mod.py``."""
    return bytecode.parent.parent / (bytecode.name.split(".", 1)[0] + ".py")


def drop_unimported_bytecode(site_packages: Path, imported: set[str]) -> tuple[int, int]:
    """Remove the ``.pyc`` of every module outside KEEP_ALL_UNDER that the start-up did not import."""
    files = removed_bytes = 0
    for bytecode in sorted(site_packages.rglob("__pycache__/*.pyc")):
        source = source_of(bytecode)
        relative = source.relative_to(site_packages).as_posix()
        if relative.startswith(KEEP_ALL_UNDER) or str(source.resolve()) in imported:
            continue
        removed_bytes += bytecode.stat().st_size
        bytecode.unlink()
        files += 1
    return files, removed_bytes


def main(argv: list[str]) -> int:
    if len(argv) != 2 or not Path(argv[1]).is_dir():
        print(__doc__, file=sys.stderr)
        return 2
    try:
        imported = imported_sources(argv[0])
    except StartupFailed as error:
        print(f"bytecode: {error}", file=sys.stderr)
        return 1
    files, removed = drop_unimported_bytecode(Path(argv[1]), imported)
    kept = f"{len(imported)} modules imported at start keep theirs"
    print(f"bytecode: {kept}; {files} .pyc ({removed / 1e6:.1f} MB) removed")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
