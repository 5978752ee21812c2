"""Modeled stand-up time of a fresh ``pulumi up``: the longest chain through the captured dependency graph.

A resource starts when everything it waits for has finished: its ``dependencies`` (explicit ``depends_on``
and the sources of its inputs), its explicit provider, and whatever its parent waited for (a child starts no
earlier than its parent). A component takes no time: it finishes with its last child, so waiting for a
component waits for all its children. Durations per resource come from tools/plan/durations.yaml. The engine
is assumed to run everything ready in parallel (``pulumi up`` default).
"""

from __future__ import annotations

import fnmatch
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import yaml

from tools.plan.harness import CapturedResource

DURATIONS_FILE = Path(__file__).with_name("durations.yaml")
COMMAND = "command:remote:Command"
RELEASE = "kubernetes:helm.sh/v3:Release"
SKIP_AWAIT = "pulumi.com/skipAwait"


@dataclass(frozen=True)
class Duration:
    seconds: float
    rule: str
    """Which entry of the table gave it: ``commands[kubeadm-join-*]``, ``types[...]``, ``default``."""
    source: str


class DurationTable:
    def __init__(self, table: Mapping[str, Any]) -> None:
        self._table = table

    @classmethod
    def load(cls, path: Path = DURATIONS_FILE) -> DurationTable:
        return cls(yaml.safe_load(path.read_text(encoding="utf-8")))

    def entries(self) -> list[Mapping[str, Any]]:
        """Every entry of the table (each has ``seconds`` and ``source``)."""
        table = self._table
        return [
            table["default"],
            *([table["skip_await"]] if "skip_await" in table else []),
            *(table.get("commands") or []),
            *(table.get("releases") or {}).values(),
            *(table.get("types") or {}).values(),
            *(table.get("prefixes") or {}).values(),
        ]

    def lookup(self, resource: CapturedResource) -> Duration:
        if not resource.custom:
            return Duration(0, "component", "components take no time")
        table = self._table
        if _skips_await(resource) and "skip_await" in table:
            return _duration(table["skip_await"], "skip_await")
        if resource.type_ == COMMAND:
            for entry in table.get("commands") or []:
                if fnmatch.fnmatchcase(resource.name, entry["pattern"]):
                    return _duration(entry, f"commands[{entry['pattern']}]")
        if resource.type_ == RELEASE and table.get("releases"):
            releases = table["releases"]
            chart = str(resource.inputs.get("chart", "")).rsplit("/", 1)[-1]
            if chart in releases:
                return _duration(releases[chart], f"releases[{chart}]")
            return _duration(releases["default"], "releases[default]")
        types = table.get("types") or {}
        if resource.type_ in types:
            return _duration(types[resource.type_], f"types[{resource.type_}]")
        for prefix, entry in (table.get("prefixes") or {}).items():
            if resource.type_.startswith(prefix):
                return _duration(entry, f"prefixes[{prefix}]")
        return _duration(table["default"], "default")


def _skips_await(resource: CapturedResource) -> bool:
    """A Kubernetes resource annotated ``pulumi.com/skipAwait: "true"``, or a release with ``skipAwait``."""
    if resource.type_ == RELEASE:
        return resource.inputs.get("skipAwait") is True
    if not resource.type_.startswith("kubernetes:"):
        return False
    metadata = resource.inputs.get("metadata")
    annotations = metadata.get("annotations") if isinstance(metadata, dict) else None
    return isinstance(annotations, dict) and str(annotations.get(SKIP_AWAIT)).lower() == "true"


def _duration(entry: Mapping[str, Any], rule: str) -> Duration:
    return Duration(float(entry["seconds"]), rule, str(entry["source"]))


@dataclass(frozen=True)
class Step:
    type_: str
    name: str
    seconds: float
    start: float
    finish: float
    rule: str

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class CriticalPath:
    total_seconds: float
    steps: tuple[Step, ...]
    fallbacks: Mapping[str, int]
    """Resource types timed by a catch-all rule (``prefixes`` or ``default``), with their counts."""

    def as_json(self) -> dict[str, Any]:
        return {
            "totalSeconds": self.total_seconds,
            "totalMinutes": round(self.total_seconds / 60, 1),
            "steps": [step.as_json() for step in self.steps],
            "timedByFallback": dict(self.fallbacks),
        }


_Pointer = tuple[str, str] | None
"""("start" | "finish", urn) of what decided a time; None at the beginning of the update."""


class _Schedule:
    def __init__(self, resources: Sequence[CapturedResource], table: DurationTable) -> None:
        self.by_urn = {resource.urn: resource for resource in resources}
        self.children: dict[str, list[str]] = defaultdict(list)
        for resource in resources:
            if resource.parent in self.by_urn:
                self.children[resource.parent].append(resource.urn)
        self.durations = {resource.urn: table.lookup(resource) for resource in resources}
        self.starts: dict[str, tuple[float, _Pointer]] = {}
        self.finishes: dict[str, tuple[float, _Pointer]] = {}
        self._visiting: set[tuple[str, str]] = set()

    def _guard(self, key: tuple[str, str]) -> None:
        if key in self._visiting:
            raise ValueError(f"dependency cycle through {key[1]}")
        self._visiting.add(key)

    def start(self, urn: str) -> float:
        if urn not in self.starts:
            self._guard(("start", urn))
            resource = self.by_urn[urn]
            best: tuple[float, _Pointer] = (0.0, None)
            waits = [*resource.dependencies, *([resource.provider] if resource.provider else [])]
            for upstream in waits:
                if upstream in self.by_urn and upstream != urn:
                    best = max(best, (self.finish(upstream), ("finish", upstream)), key=lambda item: item[0])
            if resource.parent in self.by_urn:
                best = max(
                    best, (self.start(resource.parent), ("start", resource.parent)), key=lambda item: item[0]
                )
            self.starts[urn] = best
        return self.starts[urn][0]

    def finish(self, urn: str) -> float:
        if urn not in self.finishes:
            self._guard(("finish", urn))
            resource = self.by_urn[urn]
            if resource.custom:
                self.finishes[urn] = (self.start(urn) + self.durations[urn].seconds, ("start", urn))
            else:
                best: tuple[float, _Pointer] = (self.start(urn), ("start", urn))
                for child in self.children[urn]:
                    best = max(best, (self.finish(child), ("finish", child)), key=lambda item: item[0])
                self.finishes[urn] = best
        return self.finishes[urn][0]

    def path_to(self, urn: str) -> list[Step]:
        steps: list[Step] = []
        pointer: _Pointer = ("finish", urn)
        while pointer is not None:
            kind, current = pointer
            resource = self.by_urn[current]
            if kind == "finish":
                if resource.custom:
                    start = self.start(current)
                    duration = self.durations[current]
                    steps.append(
                        Step(
                            resource.type_,
                            resource.name,
                            duration.seconds,
                            start,
                            start + duration.seconds,
                            duration.rule,
                        )
                    )
                    pointer = self.starts[current][1]
                else:
                    pointer = self.finishes[current][1]
            else:
                pointer = self.starts[current][1]
        return steps[::-1]


def critical_path(resources: Sequence[CapturedResource], table: DurationTable) -> CriticalPath:
    if not resources:
        return CriticalPath(0.0, (), {})
    schedule = _Schedule(resources, table)
    last = max((resource.urn for resource in resources), key=schedule.finish)
    fallbacks = Counter(
        resource.type_
        for resource in resources
        if schedule.durations[resource.urn].rule.startswith(("prefixes", "default"))
    )
    return CriticalPath(schedule.finish(last), tuple(schedule.path_to(last)), dict(sorted(fallbacks.items())))
