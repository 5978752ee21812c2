"""Offline stand-in for ``pulumi preview``: runs the program under the mock engine and prints what it would
create, grouped by component, plus the stack outputs (secrets masked).

Usage: ``python -m tools.plan.preview [dev|prod ...]`` (default: both stacks). Exits non-zero if the program
fails, e.g. on invalid configuration.
"""

from __future__ import annotations

import json
import sys
from collections import Counter, defaultdict

from tools.plan.harness import STACKS, ProgramFailed, execute


def render(stack: str) -> str:
    run = execute(stack)
    components = {r.urn: r for r in run.resources if not r.custom}
    children: dict[str, Counter[str]] = defaultdict(Counter)
    for resource in run.resources:
        if resource.custom:
            owner = components.get(resource.parent or "")
            children[owner.name if owner else "<stack>"][resource.type_] += 1
    lines = [
        f"stack {stack}: {sum(r.custom for r in run.resources)} resources in {len(components)} components"
    ]
    for component in components.values():
        lines.append(f"  {component.type_} {component.name}")
        lines += [f"    {count:3d} × {type_}" for type_, count in sorted(children[component.name].items())]
    lines.append("  outputs:")
    for name, output in sorted(run.outputs.items()):
        shown = "[secret]" if output["secret"] else json.dumps(output["value"], sort_keys=True)
        lines.append(f"    {name}: {shown}")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    stacks = argv or list(STACKS)
    for stack in stacks:
        try:
            print(render(stack))
        except ProgramFailed as failure:
            last_line = failure.stderr.strip().splitlines()[-1] if failure.stderr.strip() else "unknown error"
            print(f"stack {stack}: program failed: {last_line}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
