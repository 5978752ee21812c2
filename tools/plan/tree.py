"""The resource tree of a program run: components (nested as declared) with the counts of what they hold."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from tools.plan.harness import CapturedResource

ROOT = "<stack>"


@dataclass
class Node:
    type_: str
    name: str
    counts: Counter[str] = field(default_factory=Counter)
    """Custom resources directly under this component, per type."""
    components: list[Node] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.counts.values()) + sum(component.total for component in self.components)

    def as_json(self) -> dict[str, Any]:
        return {
            "type": self.type_,
            "name": self.name,
            "total": self.total,
            "resources": dict(sorted(self.counts.items())),
            "components": [component.as_json() for component in self.components],
        }


def build(resources: Sequence[CapturedResource]) -> Node:
    root = Node("pulumi:pulumi:Stack", ROOT)
    nodes = {
        resource.urn: Node(resource.type_, resource.name) for resource in resources if not resource.custom
    }
    for resource in resources:
        owner = nodes.get(resource.parent or "", root)
        if resource.custom:
            owner.counts[resource.type_] += 1
        else:
            owner.components.append(nodes[resource.urn])
    return root


def render(root: Node) -> list[str]:
    lines: list[str] = []

    def walk(node: Node, depth: int) -> None:
        indent = "  " * depth
        lines.append(f"{indent}{node.type_} {node.name} ({node.total})")
        lines.extend(f"{indent}  {count:4d} × {type_}" for type_, count in sorted(node.counts.items()))
        for component in node.components:
            walk(component, depth + 1)

    for component in root.components:
        walk(component, 1)
    if root.counts:
        lines.append(f"  {ROOT} ({sum(root.counts.values())})")
        lines.extend(f"    {count:4d} × {type_}" for type_, count in sorted(root.counts.items()))
    return lines
