"""`make image-test`: ``python -m tools.image_test [--self-check] [--plan DIR] [--image REF]``.

Default: run the dev stack's app workloads from the plan output ($PLAN_OUT/dev/manifests, PLAN_OUT defaulting
to .local/plan)
on this machine's services and scan a photo through them. ``--self-check``: then run each broken variant of
tools/image_test/breakage.py and require that it fails with its expected message.
"""

from __future__ import annotations

import argparse
import functools
import os
import sys
import time
from pathlib import Path

from tools.image_test.breakage import BREAKAGES, variant
from tools.image_test.manifests import Manifest, ManifestError, load_plan
from tools.image_test.runner import ImageTestFailed, run


def self_check(plan: list[Manifest], image: str, namespace: str, timeout: float) -> list[str]:
    """The broken variants that image-test failed to catch (empty when every one was caught)."""
    missed = []
    for breakage in BREAKAGES:
        started = time.monotonic()
        try:
            run(
                plan,
                image,
                namespace,
                timeout=timeout,
                scan=False,
                variant=functools.partial(variant, breakage),
            )
        except ImageTestFailed as error:
            caught = breakage.expected in str(error)
            first_line = str(error).splitlines()[0]
            verdict = "caught" if caught else f"failed without mentioning {breakage.expected!r}"
            print(
                f"self-check {breakage.name}: {verdict} in {time.monotonic() - started:.0f} s: {first_line}"
            )
            if not caught:
                missed.append(f"{breakage.name}: {error}")
        else:
            missed.append(f"{breakage.name}: image-test passed a broken manifest")
    return missed


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.image_test", description=__doc__)
    parser.add_argument(
        "--plan",
        type=Path,
        default=Path(os.environ.get("PLAN_OUT") or ".local/plan") / "dev" / "manifests",
        help="the manifests folder (default: $PLAN_OUT/dev/manifests, as `make plan STACK=dev` writes it)",
    )
    parser.add_argument("--image", default=os.environ.get("ECO2_IMAGE", "localhost/eco2-api:dev"))
    parser.add_argument("--namespace", default="eco2")
    parser.add_argument(
        "--timeout", type=float, default=float(os.environ.get("ECO2_IMAGE_TEST_TIMEOUT", 300))
    )
    parser.add_argument("--self-check", action="store_true")
    args = parser.parse_args(argv)
    try:
        plan = load_plan(args.plan)
        result = run(plan, args.image, args.namespace, timeout=args.timeout)
    except (ManifestError, ImageTestFailed) as error:
        print(f"image-test FAILED: {error}", file=sys.stderr)
        return 1
    answer = result.answer["result"]["answer"]
    print(
        f"image-test passed: workloads ready in {result.ready_seconds:.1f} s, first answer after "
        f"{result.first_answer_seconds:.1f} s: {answer.get('category_label')} "
        f"({answer['classification']['confidence']:.0%}, {answer['classification']['source']})"
    )
    if args.self_check:
        missed = self_check(plan, args.image, args.namespace, min(args.timeout, 120))
        if missed:
            print("image-test self-check FAILED:\n  " + "\n  ".join(missed), file=sys.stderr)
            return 1
        print(f"image-test self-check passed: {len(BREAKAGES)} broken manifests failed as they must")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
