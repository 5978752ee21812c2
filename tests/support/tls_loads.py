"""Count how often the product's code makes a TLS context load a CA bundle (what building a context costs:
~30 ms of CPU each). Loads made by the test's own clients (a browser following a redirect) do not count."""

from __future__ import annotations

import ssl
import traceback
from pathlib import Path
from typing import Any

import pytest

APPS = str(Path(__file__).resolve().parents[2] / "apps")


def count_ca_loads(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, ...]]:
    """From now until the test ends, every `load_verify_locations` call made under apps/ is appended to the
    returned list (as the product's frames that led to it)."""
    loads: list[tuple[str, ...]] = []
    original = ssl.SSLContext.load_verify_locations

    def counted(context: ssl.SSLContext, *args: Any, **kwargs: Any) -> None:
        ours = tuple(frame for frame in traceback.extract_stack() if frame.filename.startswith(APPS))
        if ours:
            loads.append(tuple(f"{frame.filename}:{frame.lineno}" for frame in ours))
        original(context, *args, **kwargs)

    monkeypatch.setattr(ssl.SSLContext, "load_verify_locations", counted)
    return loads
