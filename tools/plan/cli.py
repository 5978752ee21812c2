"""``make plan``: the offline stand-in for ``pulumi preview``, no credentials.

Usage: ``python -m tools.plan [--out DIR] [--config KEY=VALUE ...] [dev|prod ...]`` (default: both stacks).
Runs the real program under the mock engine and prints, per stack: the resource tree, the Kubernetes objects
checked against the pinned Kubernetes version's schemas and the CRDs in platform/crds/, the Helm releases'
pins, the policy pack's verdicts, the monthly cost estimate and the modeled stand-up time. Writes plan.json
and one manifest per object to ``DIR/<stack>/`` (default ``$PLAN_OUT`` or ``.local/plan``). Exits 1 when the
program fails or anything is found wrong, 2 on bad usage.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tools.plan.findings import PlanError
from tools.plan.harness import REPO_ROOT, STACKS, ProgramFailed, ProgramRun, execute, run_stack

DEFAULT_OUT = REPO_ROOT / ".local" / "plan"


def _run(stack: str, overrides: Mapping[str, str | None]) -> ProgramRun:
    try:
        return execute(stack, overrides) if overrides else run_stack(stack)
    except ProgramFailed as failure:
        lines = failure.stderr.strip().splitlines()
        raise PlanError(f"stack {stack}: program failed: {lines[-1] if lines else 'no output'}") from None


def _overrides(pairs: Sequence[str]) -> dict[str, str | None]:
    overrides: dict[str, str | None] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or ":" not in key:
            raise argparse.ArgumentTypeError(f"--config wants NAMESPACE:KEY=VALUE, got {pair!r}")
        overrides[key] = value
    return overrides


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m tools.plan", description=__doc__.split("\n\n")[0])
    parser.add_argument("stacks", nargs="*", metavar="STACK", help="dev, prod (default: both)")
    parser.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help="folder for <stack>/plan.json and manifests (default: $PLAN_OUT or .local/plan)",
    )
    parser.add_argument(
        "--config",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a config value, e.g. eco2:imageTag=0.2.0",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    stacks: list[str] = list(dict.fromkeys(args.stacks)) or list(STACKS)
    unknown = [stack for stack in stacks if stack not in STACKS]
    if unknown:
        parser.error(f"unknown stack {', '.join(unknown)}; expected {' or '.join(STACKS)}")
    try:
        overrides = _overrides(args.config)
    except argparse.ArgumentTypeError as error:
        parser.error(str(error))
    out: Path = args.out or Path(os.environ.get("PLAN_OUT") or DEFAULT_OUT)
    failed = False
    with ThreadPoolExecutor(max_workers=len(stacks)) as pool:
        # The program runs in one subprocess per stack; run them side by side.
        runs = {stack: pool.submit(_run, stack, overrides) for stack in stacks}
        # Imported only now, while the programs run: pulumi_policy, the schemas and the CRDs take a second.
        from tools.plan import build, report

        build.warm_up()
        for stack in stacks:
            try:
                minor = build.kubernetes_minor(stack, overrides)
                plan = build.build(stack, runs[stack].result(), minor)
            except PlanError as error:
                print(f"plan {stack}: FAILED: {error}", file=sys.stderr)
                failed = True
                continue
            folder = out / stack
            report.write(plan, folder)
            print(report.render(plan, folder))
            if plan.findings:
                print(
                    f"plan {stack}: FAILED: {len(plan.findings)} violation(s), listed above", file=sys.stderr
                )
                failed = True
    return 1 if failed else 0
