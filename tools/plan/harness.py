"""Run the real Pulumi program offline and hand tests what it registered.

``run_program(stack)`` executes ``__main__.py`` for ``dev`` or ``prod`` under the mock engine (in a
subprocess, see stack_runner.py) with the stack's config files plus fake secrets, and returns every resource
registration.
Results are cached per stack for the whole pytest session.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
STACKS = ("dev", "prod")
RUN_TIMEOUT_SECONDS = 120
RUNNER_MODULE = "tools.plan.stack_runner"


@dataclass(frozen=True)
class CapturedResource:
    """One resource (custom or component) as the engine saw it."""

    type_: str
    name: str
    inputs: dict[str, Any]
    """camelCase, secret markers unwrapped, integral floats as int, resource references as URNs."""
    custom: bool
    urn: str
    parent: str | None
    provider: str | None
    """URN of the explicit provider (None for the default provider)."""
    dependencies: tuple[str, ...]
    """URNs this resource waits for: explicit ``depends_on`` plus every input's source resources."""
    property_dependencies: dict[str, tuple[str, ...]] = field(default_factory=dict)
    secret_inputs: tuple[str, ...] = ()
    """Dotted paths of inputs that were secret (``"kubeconfig"``, ``"connection.privateKey"``)."""
    additional_secret_outputs: tuple[str, ...] = ()
    ignore_changes: tuple[str, ...] = ()
    replace_on_changes: tuple[str, ...] = ()
    protect: bool = False
    delete_before_replace: bool = False
    order: int = 0
    """Registration order; a resource is only registered after everything it depends on."""

    @property
    def tags(self) -> dict[str, str]:
        tags = self.inputs.get("tags")
        return dict(tags) if isinstance(tags, dict) else {}


@dataclass(frozen=True)
class ProgramRun:
    resources: tuple[CapturedResource, ...]
    outputs: dict[str, Any]
    """Stack outputs: name → {"value": ..., "secret": bool}."""


class ProgramFailed(RuntimeError):
    """The program raised; ``stderr`` holds its traceback and message."""

    def __init__(self, stack: str, stderr: str) -> None:
        self.stderr = stderr
        super().__init__(f"program failed for stack {stack}:\n{stderr[-4000:]}")


def _captured(index: int, raw: Mapping[str, Any]) -> CapturedResource:
    return CapturedResource(
        type_=raw["type"],
        name=raw["name"],
        inputs=raw["inputs"],
        custom=raw["custom"],
        urn=raw["urn"],
        parent=raw["parent"],
        provider=raw["provider"],
        dependencies=tuple(raw["dependencies"]),
        property_dependencies={key: tuple(urns) for key, urns in raw["property_dependencies"].items()},
        secret_inputs=tuple(raw["secret_inputs"]),
        additional_secret_outputs=tuple(raw["additional_secret_outputs"]),
        ignore_changes=tuple(raw["ignore_changes"]),
        replace_on_changes=tuple(raw["replace_on_changes"]),
        protect=raw["protect"],
        delete_before_replace=raw["delete_before_replace"],
        order=index,
    )


def execute(stack: str, overrides: Mapping[str, str | None] | None = None) -> ProgramRun:
    """Run the program once (uncached). ``overrides`` replace raw config values (None removes the key)."""
    if stack not in STACKS:
        raise ValueError(f"unknown stack {stack!r}; expected one of {STACKS}")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "run.json"
        completed = subprocess.run(
            [
                sys.executable,
                "-m",
                "tools.plan.stack_runner",
                stack,
                str(out),
                json.dumps(dict(overrides or {})),
            ],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=RUN_TIMEOUT_SECONDS,
            env={
                **os.environ,
                "PYTHONPATH": os.pathsep.join([str(REPO_ROOT), str(REPO_ROOT / "platform")]),
                "PULUMI_TEST_MODE": "true",
            },
            check=False,
        )
        if completed.returncode != 0 or not out.exists():
            raise ProgramFailed(stack, completed.stderr)
        data = json.loads(out.read_text())
    resources = tuple(_captured(index, raw) for index, raw in enumerate(data["resources"]))
    return ProgramRun(resources=resources, outputs=data["outputs"])


@cache
def run_stack(stack: str) -> ProgramRun:
    """Resources and outputs of the stack's program, cached for the session."""
    return execute(stack)


def run_program(stack: str) -> list[CapturedResource]:
    """Every resource the program registers for ``stack`` ("dev" or "prod"), in registration order."""
    return list(run_stack(stack).resources)


def stack_outputs(stack: str) -> dict[str, Any]:
    return run_stack(stack).outputs


def of_type(resources: Iterable[CapturedResource], type_: str) -> list[CapturedResource]:
    return [resource for resource in resources if resource.type_ == type_]


def by_name(resources: Iterable[CapturedResource], type_: str, name: str) -> CapturedResource:
    matches = [resource for resource in resources if resource.type_ == type_ and resource.name == name]
    if len(matches) != 1:
        raise LookupError(f"expected one {type_} named {name!r}, found {len(matches)}")
    return matches[0]


def transitive_dependencies(resources: Iterable[CapturedResource], resource: CapturedResource) -> set[str]:
    """Every URN ``resource`` waits for, directly or through other resources (and its explicit provider)."""
    by_urn = {item.urn: item for item in resources}
    seen: set[str] = set()
    pending = [*resource.dependencies, *([resource.provider] if resource.provider else [])]
    while pending:
        urn = pending.pop()
        if urn in seen:
            continue
        seen.add(urn)
        upstream = by_urn.get(urn)
        if upstream is not None:
            pending.extend(upstream.dependencies)
            if upstream.provider:
                pending.append(upstream.provider)
    return seen
