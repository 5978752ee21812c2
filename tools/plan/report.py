"""One stack's plan: built from a program run, printed for the terminal, written to a folder for review.

Folder layout (``<out>/<stack>/``, rewritten on every run):

- ``plan.json``: counts (resource tree), objects (file, kind, namespace, name, schema), Helm releases,
  findings, policy verdicts, cost lines and total, critical path, stack outputs (secrets masked);
- ``manifests/<Kind>.<namespace>.<name>.json``: each Kubernetes object exactly as the program declares it
  (Secrets included, with the values the program set); cluster-scoped objects use ``_cluster`` as namespace.
"""

from __future__ import annotations

import json
import shutil
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tools.plan import tree
from tools.plan.cost import CostEstimate
from tools.plan.critical_path import CriticalPath
from tools.plan.findings import Finding
from tools.plan.harness import ProgramRun
from tools.plan.validation import KubernetesReport

MANIFESTS = "manifests"
PLAN_FILE = "plan.json"


@dataclass(frozen=True)
class StackPlan:
    stack: str
    kubernetes_version: str
    run: ProgramRun
    kubernetes: KubernetesReport
    policy_rules: int
    policy_violations: tuple[str, ...]
    cost: CostEstimate
    path: CriticalPath
    goals: dict[str, Any]
    """``goalMinutes``, ``referenceMinutes``, ``referenceSource`` of the stand-up time (durations.yaml)."""

    @property
    def findings(self) -> tuple[Finding, ...]:
        policy = tuple(Finding("policy", f"stack {self.stack}", "", text) for text in self.policy_violations)
        return self.kubernetes.findings + policy + self.cost.findings

    def as_json(self) -> dict[str, Any]:
        custom = [resource for resource in self.run.resources if resource.custom]
        return {
            "stack": self.stack,
            "kubernetesVersion": self.kubernetes_version,
            "ok": not self.findings,
            "counts": {
                "resources": len(custom),
                "components": len(self.run.resources) - len(custom),
                "kubernetesObjects": len(self.kubernetes.objects),
                "helmReleases": len(self.kubernetes.releases),
                "byType": dict(sorted(Counter(resource.type_ for resource in custom).items())),
                "tree": tree.build(self.run.resources).as_json(),
            },
            "objects": [
                {
                    "file": f"{MANIFESTS}/{checked.object.file_name}",
                    "apiVersion": checked.object.api_version,
                    "kind": checked.object.kind,
                    "namespace": checked.object.namespace,
                    "name": checked.object.name,
                    "autonamed": checked.object.autonamed,
                    "schema": checked.schema,
                    "urn": checked.object.resource.urn,
                }
                for checked in self.kubernetes.objects
            ],
            "helmReleases": [release.as_json() for release in self.kubernetes.releases],
            "policy": {"rules": self.policy_rules, "violations": list(self.policy_violations)},
            "findings": [finding.as_json() for finding in self.findings],
            "cost": self.cost.as_json(),
            "criticalPath": {**self.path.as_json(), **self.goals},
            "outputs": {
                name: "[secret]" if output["secret"] else output["value"]
                for name, output in sorted(self.run.outputs.items())
            },
        }


def write(plan: StackPlan, folder: Path) -> None:
    """Replace ``folder``'s plan.json and manifests/ with this plan's (nothing else in it is touched)."""
    manifests = folder / MANIFESTS
    if manifests.exists():
        shutil.rmtree(manifests)
    manifests.mkdir(parents=True)
    for checked in plan.kubernetes.objects:
        target = manifests / checked.object.file_name
        target.write_text(
            json.dumps(checked.object.manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8"
        )
    (folder / PLAN_FILE).write_text(json.dumps(plan.as_json(), indent=2) + "\n", encoding="utf-8")


def _minutes(seconds: float) -> str:
    return f"{int(seconds // 60)}:{int(seconds % 60):02d}"


def render(plan: StackPlan, folder: Path | None = None) -> str:
    lines = [f"== plan {plan.stack} (Kubernetes {plan.kubernetes_version}) =="]
    custom = sum(resource.custom for resource in plan.run.resources)
    components = len(plan.run.resources) - custom
    lines.append(f"resources: {custom} in {components} components")
    lines += tree.render(tree.build(plan.run.resources))

    schemas = Counter(checked.schema for checked in plan.kubernetes.objects)
    by_schema = ", ".join(f"{count} against {schema}" for schema, count in sorted(schemas.items())) or "none"
    lines.append(f"kubernetes objects: {len(plan.kubernetes.objects)} ({by_schema})")
    for release in plan.kubernetes.releases:
        lines.append(
            f"  helm release {release.namespace}/{release.name}: {release.chart} {release.version}"
            f" from {release.repository}"
        )
    lines.append(f"policy pack: {plan.policy_rules} rules, {len(plan.policy_violations)} violations")

    cost = plan.cost
    lines.append("monthly cost estimate (USD, on-demand, tools/plan/prices.yaml):")
    for line in cost.lines:
        lines.append(
            f"  {line.item:<34} {line.quantity:9.2f} {line.unit:<13} × {line.unit_price:8.4f}"
            f" = {line.monthly:8.2f}   {line.basis}"
        )
    reference = cost.reference
    seeds = f"   (seeds: ${reference['low']}–{reference['high']})" if reference else ""
    lines.append(f"  {'total':<34} {'':>9} {'':<13}   {'':>8}   {cost.total:8.2f}{seeds}")

    path = plan.path
    goal = plan.goals.get("goalMinutes")
    seeds_minutes = plan.goals.get("referenceMinutes")
    lines.append(
        f"stand-up time (critical path): {path.total_seconds / 60:.1f} min"
        + (f" (goal ≤ {goal} min; seeds {seeds_minutes} min)" if goal else "")
    )
    for step in path.steps:
        lines.append(
            f"  {_minutes(step.start):>6} +{step.seconds:>4.0f}s  {step.type_} {step.name}   [{step.rule}]"
        )
    if path.fallbacks:
        count = sum(path.fallbacks.values())
        lines.append(
            f"  {count} resources timed by a catch-all rule (prefixes/default; plan.json lists them)"
        )

    lines.append("outputs:")
    for name, value in plan.as_json()["outputs"].items():
        lines.append(f"  {name}: {json.dumps(value, sort_keys=True)}")
    if folder is not None:
        lines.append(
            f"written: {folder}/{PLAN_FILE} and {len(plan.kubernetes.objects)} files in {folder}/{MANIFESTS}/"
        )
    findings = plan.findings
    lines.append(f"violations: {len(findings)}" if findings else "violations: none")
    lines += [f"  {finding}" for finding in findings]
    return "\n".join(lines)
