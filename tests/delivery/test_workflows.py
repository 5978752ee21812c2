"""The GitHub workflows: actionlint, GitHub's workflow schema, pinned actions, OIDC only, gated prod."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = sorted((REPO_ROOT / ".github" / "workflows").glob("*.yml"))
BIN = Path(sys.executable).parent
# A full version (v4.2.2) or a commit digest: a moving major tag (v4) can change under us.
PINNED = re.compile(r"^[\w.-]+/[\w./-]+@(v\d+\.\d+\.\d+|[0-9a-f]{40})$")


def _load(path: Path) -> dict[str, Any]:
    document: dict[str, Any] = yaml.load(
        path.read_text(encoding="utf-8"), Loader=yaml.BaseLoader
    )  # "on" stays a key
    return document


def _uses(node: object) -> list[str]:
    if isinstance(node, dict):
        found = [node["uses"]] if isinstance(node.get("uses"), str) else []
        return found + [use for value in node.values() for use in _uses(value)]
    if isinstance(node, list):
        return [use for value in node for use in _uses(value)]
    return []


def test_there_are_a_pull_request_and_a_main_workflow() -> None:
    assert {path.name for path in WORKFLOWS} == {"pull-request.yml", "main.yml"}


def test_actionlint_passes() -> None:
    env = {**os.environ, "PATH": f"{BIN}:{os.environ['PATH']}"}  # actionlint runs shellcheck on run: blocks
    config = REPO_ROOT / ".github" / "actionlint.yaml"
    completed = subprocess.run(
        [BIN / "actionlint", "-config-file", config, *WORKFLOWS], capture_output=True, text=True, env=env
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr


def test_the_workflows_match_githubs_schema() -> None:
    command = [
        str(BIN / "check-jsonschema"),
        "--builtin-schema",
        "vendor.github-workflows",
        *map(str, WORKFLOWS),
    ]
    completed = subprocess.run(command, capture_output=True, text=True)
    assert completed.returncode == 0, completed.stdout + completed.stderr


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda path: path.name)
def test_every_action_is_pinned_to_a_full_version_or_digest(path: Path) -> None:
    uses = _uses(_load(path))
    assert uses
    assert [use for use in uses if not PINNED.match(use)] == []


def test_the_pin_check_refuses_moving_tags() -> None:
    assert not PINNED.match("actions/checkout@v4")
    assert not PINNED.match("actions/checkout@main")
    assert PINNED.match("actions/checkout@v4.2.2")


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda path: path.name)
def test_cloud_access_is_by_oidc_only(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert "aws-access-key-id" not in text and "AWS_SECRET_ACCESS_KEY" not in text
    for job in _load(path)["jobs"].values():
        steps = job.get("steps", [])
        if any(step.get("uses", "").startswith("aws-actions/configure-aws-credentials@") for step in steps):
            assert job["permissions"]["id-token"] == "write"
            assert all(
                "role-to-assume" in step["with"] for step in steps if "configure-aws" in step.get("uses", "")
            )


def test_pull_requests_check_plan_and_preview_both_stacks_with_the_policy_pack() -> None:
    jobs = _load(REPO_ROOT / ".github" / "workflows" / "pull-request.yml")["jobs"]
    assert any(step.get("run") == "make check" for step in jobs["check"]["steps"])
    assert set(jobs["check"]["services"]) == {"postgres", "redis", "rabbitmq"}
    assert jobs["plan"]["strategy"]["matrix"]["stack"] == ["dev", "prod"]
    assert jobs["preview"]["strategy"]["matrix"]["stack"] == ["dev", "prod"]
    (preview,) = [
        step for step in jobs["preview"]["steps"] if step.get("uses", "").startswith("pulumi/actions@")
    ]
    assert preview["with"]["command"] == "preview"
    assert preview["with"]["comment-on-pr"] == "true" and preview["with"]["diff"] == "true"
    assert preview["with"]["policyPacks"] == "policy"
    assert "secrets.PULUMI_ACCESS_TOKEN" in preview["env"]["PULUMI_ACCESS_TOKEN"]


def test_main_pushes_an_immutable_image_with_provenance_then_deploys_dev_then_gated_prod() -> None:
    jobs = _load(REPO_ROOT / ".github" / "workflows" / "main.yml")["jobs"]
    (build,) = [
        step
        for step in jobs["image"]["steps"]
        if step.get("uses", "").startswith("docker/build-push-action@")
    ]
    assert build["with"]["provenance"] == "mode=max" and build["with"]["sbom"] == "true"
    assert build["with"]["network"] == "none" and build["with"]["file"] == "apps/Dockerfile"
    (meta,) = [
        step for step in jobs["image"]["steps"] if step.get("uses", "").startswith("docker/metadata-action@")
    ]
    assert "latest=false" in meta["with"]["flavor"] and "type=sha,format=long" in meta["with"]["tags"]
    assert jobs["deploy-dev"]["environment"] == "dev" and jobs["deploy-dev"]["needs"] == "image"
    assert jobs["deploy-prod"]["environment"] == "prod" and "deploy-dev" in jobs["deploy-prod"]["needs"]
    for name in ("deploy-dev", "deploy-prod"):
        (up,) = [step for step in jobs[name]["steps"] if step.get("uses", "").startswith("pulumi/actions@")]
        assert up["with"]["command"] == "up"
        assert (
            "eco2:imageTag" in up["with"]["config-map"]
            and "needs.image.outputs.tag" in up["with"]["config-map"]
        )
