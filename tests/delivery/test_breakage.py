"""The self-check's broken variants break what they claim, and only in the one Deployment they target."""

from __future__ import annotations

from pathlib import Path

from tools.image_test.breakage import BREAKAGES, variant
from tools.image_test.manifests import Manifest, app_workloads, containers, load_plan, name_of, pod_spec

RENDERED = app_workloads(load_plan(Path(__file__).parent / "fixtures" / "plan"), "eco2")
BY_NAME = {breakage.name.split()[0]: breakage for breakage in BREAKAGES}


def _deployment(manifests: list[Manifest]) -> Manifest:
    (deployment,) = [m for m in manifests if m["kind"] == "Deployment"]
    return deployment


def test_each_variant_keeps_config_the_migration_and_one_deployment() -> None:
    for breakage in BREAKAGES:
        kinds = sorted(m["kind"] for m in variant(breakage, RENDERED))
        assert kinds == ["ConfigMap", "Deployment", "Job", "Secret"], breakage.name


def test_read_only_variant_drops_the_beats_empty_dir_and_its_mount() -> None:
    deployment = _deployment(variant(BY_NAME["read-only"], RENDERED))
    assert name_of(deployment) == "beat"
    assert not [v for v in pod_spec(deployment).get("volumes", []) if "emptyDir" in v]
    assert all(not c.get("volumeMounts") for c in containers(deployment))
    assert all(c["securityContext"]["readOnlyRootFilesystem"] for c in containers(deployment))


def test_wrong_command_variant_misspells_the_executable() -> None:
    deployment = _deployment(variant(BY_NAME["wrong"], RENDERED))
    assert pod_spec(deployment)["containers"][0]["command"][0] == "ecoeco-typo"


def test_missing_env_variant_removes_the_token_secret_everywhere() -> None:
    manifests = variant(BY_NAME["missing"], RENDERED)
    assert all("ECO2_TOKEN_SIGNING_KEY" not in m.get("data", {}) for m in manifests if m["kind"] == "Secret")


def test_variants_leave_the_rendered_manifests_alone() -> None:
    before = repr(RENDERED)
    for breakage in BREAKAGES:
        variant(breakage, RENDERED)
    assert repr(RENDERED) == before
