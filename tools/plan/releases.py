"""Helm releases (``helm.v3.Release``): the chart, an exact version and where it comes from.

A release renders provider-side, so the plan cannot see its objects; it can check that the same chart would be
installed on every ``pulumi up``: a chart name, an exact (not ranged) version, an https or OCI repository.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from tools.plan.findings import Finding
from tools.plan.harness import CapturedResource

EXACT_VERSION = re.compile(r"^v?\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$")


@dataclass(frozen=True)
class ReleaseSummary:
    name: str
    chart: str
    version: str
    repository: str
    namespace: str

    def as_json(self) -> dict[str, str]:
        return {
            "name": self.name,
            "chart": self.chart,
            "version": self.version,
            "repository": self.repository,
            "namespace": self.namespace,
        }


def summary(resource: CapturedResource) -> ReleaseSummary:
    inputs = resource.inputs
    options = inputs.get("repositoryOpts")
    repository = options.get("repo", "") if isinstance(options, dict) else ""
    chart = str(inputs.get("chart") or "")
    return ReleaseSummary(
        name=str(inputs.get("name") or resource.name),
        chart=chart,
        version=str(inputs.get("version") or ""),
        repository=str(repository or (chart if chart.startswith("oci://") else "")),
        namespace=str(inputs.get("namespace") or "default"),
    )


def check(resource: CapturedResource) -> list[Finding]:
    release = summary(resource)
    subject = f"Release {release.namespace}/{release.name}"
    findings: list[Finding] = []
    if not release.chart:
        findings.append(Finding("release", subject, "chart", "no chart"))
    if not EXACT_VERSION.match(release.version):
        shown = repr(release.version) if release.version else "none"
        findings.append(
            Finding("release", subject, "version", f"chart version {shown} is not one exact version (x.y.z)")
        )
    if not release.repository.startswith(("https://", "oci://")):
        shown = repr(release.repository) if release.repository else "none"
        findings.append(
            Finding("release", subject, "repositoryOpts.repo", f"repository {shown} is not an https/OCI URL")
        )
    values: Any = resource.inputs.get("values", {})
    if not isinstance(values, dict):
        findings.append(Finding("release", subject, "values", "values must be a mapping"))
    return findings
