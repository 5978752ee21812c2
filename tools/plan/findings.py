"""What the plan reports as wrong: one finding names its check, the object and the JSON path."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any


class PlanError(RuntimeError):
    """The plan could not be made: the program failed, or the Kubernetes version has no schemas."""


@dataclass(frozen=True)
class Finding:
    check: str
    """``program``, ``schema``, ``crd``, ``release``, ``manifest``, ``policy`` or ``cost``."""
    subject: str
    """The object: ``Deployment eco2/auth``, a Pulumi type and name, or the stack."""
    path: str
    """JSON path inside the object (``spec.replicas``); ``""`` when the finding is about the whole object."""
    message: str

    def __str__(self) -> str:
        where = f" at {self.path}" if self.path else ""
        return f"[{self.check}] {self.subject}{where}: {self.message}"

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def json_path(parts: Iterable[str | int]) -> str:
    """``["spec", "containers", 0, "image"]`` → ``spec.containers[0].image``."""
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text
