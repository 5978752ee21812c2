"""The plan of one stack from one program run: every check, the cost and the critical path (no I/O besides
reading the tables). Imported by the CLI only once the programs run: its imports take about a second."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from tools.plan import cost, crds, critical_path, report, schemas, validation
from tools.plan.crds import CRD_DIR
from tools.plan.findings import PlanError
from tools.plan.harness import ProgramRun
from tools.plan.policy import load_pack, program_violations
from tools.plan.stack_runner import stack_config

VERSION_KEY = "eco2:kubernetesVersion"


def kubernetes_minor(stack: str, overrides: Mapping[str, str | None]) -> str:
    """The stack's ``eco2:kubernetesVersion`` as major.minor, as the program would read it."""
    config = {**stack_config(stack), **{k: v for k, v in overrides.items() if v is not None}}
    version = config.get(VERSION_KEY)
    if not version:
        raise PlanError(f"stack {stack}: {VERSION_KEY} is not set")
    try:
        return schemas.minor_version(version)
    except schemas.UnsupportedVersion as error:
        raise PlanError(f"stack {stack}: {VERSION_KEY}={version}: {error}") from None


def build(
    stack: str,
    run: ProgramRun,
    minor: str,
    *,
    prices: Mapping[str, Any] | None = None,
    durations: critical_path.DurationTable | None = None,
    crd_dir: Path = CRD_DIR,
) -> report.StackPlan:
    """The plan of one program run (no I/O besides reading the tables)."""
    durations = durations or critical_path.DurationTable.load()
    goals = yaml.safe_load(critical_path.DURATIONS_FILE.read_text(encoding="utf-8"))
    return report.StackPlan(
        stack=stack,
        kubernetes_version=minor,
        run=run,
        kubernetes=validation.check(run.resources, minor, crd_dir),
        policy_rules=len(load_pack().ALL_POLICIES),
        policy_violations=tuple(program_violations(stack, run.resources)),
        cost=cost.estimate(run.resources, prices or cost.load_prices()),
        path=critical_path.critical_path(run.resources, durations),
        goals={
            "goalMinutes": goals.get("goal_minutes"),
            "referenceMinutes": goals.get("reference_minutes"),
            "referenceSource": goals.get("reference_source"),
        },
    )


def warm_up() -> None:
    """Parse the CRDs and import the policy pack (done while the programs run in their subprocesses)."""
    crds.catalogue()
    load_pack()
