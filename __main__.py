"""Eco² infrastructure (docs/infra.md): the building blocks live in ``infra`` and ``eco2_platform``."""

import sys
from pathlib import Path

# The cluster layer lives in platform/eco2_platform (a root `platform` package would shadow the stdlib).
sys.path.insert(0, str(Path(__file__).resolve().parent / "platform"))

from infra.program import deploy

deploy()
