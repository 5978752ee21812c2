"""The app image installs a wheel: it must carry every data file the product reads at run time."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from apps.core.settings import Settings
from apps.waste.analysis.classifier.artifacts import load_manifest
from apps.waste.analysis.classifier.runtime import load_head
from apps.waste.analysis.embedded import EmbeddedAnalyzer

REPO_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel_files(tmp_path_factory: pytest.TempPathFactory) -> set[str]:
    out = tmp_path_factory.mktemp("wheel")
    build = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out)]
    shutil.rmtree(REPO_ROOT / "build", ignore_errors=True)  # setuptools would reuse stale build/lib files
    subprocess.run(
        [*build, "."],
        cwd=REPO_ROOT,
        check=True,
        capture_output=True,
    )
    (wheel,) = out.glob("eco2-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        return set(archive.namelist())


@pytest.mark.parametrize(
    "path",
    [
        "apps/migrations/env.py",
        "apps/migrations/versions/0001_initial.py",
        "apps/waste/analysis/classifier/artifacts/efficientnet_lite2_260.onnx",
        "apps/waste/analysis/classifier/artifacts/head.npz",
        "apps/waste/analysis/classifier/artifacts/imagenet_fc.npz",
        "apps/waste/analysis/classifier/artifacts/trashnet_features.npz",
        "apps/migrations/versions/0003_feedback.py",
        "apps/waste/analysis/classifier/artifacts/manifest.json",
        "apps/waste/analysis/classifier/artifacts/NOTICE",
        "apps/waste/analysis/classifier/artifacts/LICENSE-Apache-2.0.txt",
        "apps/recycling/data/taxonomy.yaml",
        "apps/recycling/data/rules.yaml",
        "apps/recycling/data/situation_tags.yaml",
        "apps/locations/data/keco_recycling_sites.csv",
    ],
)
def test_runtime_files_are_in_the_wheel(wheel_files: set[str], path: str) -> None:
    assert path in wheel_files


def test_no_test_or_infrastructure_code_in_the_wheel(wheel_files: set[str]) -> None:
    assert not any(name.startswith(("tests/", "bench/", "policy/")) for name in wheel_files)


def test_no_classifier_tooling_in_the_wheel(wheel_files: set[str]) -> None:
    """Training, export and evaluation need torch, onnx or TrashNet: they live in tools/, not the image."""
    assert not any(name.startswith("tools/") for name in wheel_files)
    runtime = {name for name in wheel_files if name.startswith("apps/waste/analysis/classifier/")}
    for tool in ("train", "evaluate", "export_onnx", "docs_section", "dataset", "features", "composite"):
        assert f"apps/waste/analysis/classifier/{tool}.py" not in runtime


def test_every_artifact_the_runtime_loads_is_in_the_manifest_and_the_wheel(wheel_files: set[str]) -> None:
    artifacts = Path(__file__).resolve().parents[1] / "apps/waste/analysis/classifier/artifacts"
    for name in load_manifest(artifacts)["files"]:
        assert f"apps/waste/analysis/classifier/artifacts/{name}" in wheel_files


def test_the_default_head_is_the_committed_one_with_its_own_threshold() -> None:
    settings = Settings(_env_file=None)
    analyzer = EmbeddedAnalyzer(head=settings.classifier_head)
    artifacts = Path(__file__).resolve().parents[1] / "apps/waste/analysis/classifier/artifacts"
    assert analyzer.threshold == load_head(artifacts.resolve(), settings.classifier_head).threshold
