import json
import shutil

import pytest

from apps.waste.analysis.classifier.artifacts import (
    DEFAULT_ARTIFACTS_DIR,
    HEAD_FILE,
    LABELS_FILE,
    MANIFEST_NAME,
    MODEL_FILE,
    ArtifactError,
    load_manifest,
    record_artifact,
    sha256_of,
    verified_path,
)
from apps.waste.analysis.classifier.feature_table import FEATURES_FILE
from apps.waste.analysis.classifier.runtime import load_head
from apps.waste.analysis.embedded import EmbeddedAnalyzer
from tests.support.classifier_artifacts import write_artifacts


def test_every_committed_artifact_matches_its_manifest_checksum():
    for name in (MODEL_FILE, HEAD_FILE, LABELS_FILE):
        assert verified_path(DEFAULT_ARTIFACTS_DIR, name) == DEFAULT_ARTIFACTS_DIR / name
    assert (DEFAULT_ARTIFACTS_DIR / "NOTICE").is_file()
    assert (DEFAULT_ARTIFACTS_DIR / "LICENSE-Apache-2.0.txt").is_file()


def test_record_then_verify_round_trip(tmp_path):
    (tmp_path / "weights.bin").write_bytes(b"\x00\x01\x02")
    record_artifact(tmp_path, "weights.bin", produced_by="test", details={"note": "x"})
    entry = load_manifest(tmp_path)["files"]["weights.bin"]
    assert entry == {
        "sha256": sha256_of(tmp_path / "weights.bin"),
        "bytes": 3,
        "produced_by": "test",
        "note": "x",
    }
    assert verified_path(tmp_path, "weights.bin") == tmp_path / "weights.bin"


def test_a_changed_file_fails_with_both_checksums_in_the_message(tmp_path):
    (tmp_path / "weights.bin").write_bytes(b"original")
    record_artifact(tmp_path, "weights.bin", produced_by="test", details={})
    expected = sha256_of(tmp_path / "weights.bin")
    (tmp_path / "weights.bin").write_bytes(b"tampered")
    with pytest.raises(ArtifactError, match="failed its checksum") as error:
        verified_path(tmp_path, "weights.bin")
    assert expected in str(error.value)
    assert sha256_of(tmp_path / "weights.bin") in str(error.value)


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        (lambda d: None, "manifest not found"),
        (lambda d: (d / MANIFEST_NAME).write_text("{not json"), "not valid JSON"),
        (lambda d: (d / MANIFEST_NAME).write_text("[]"), "no 'files' table"),
        (lambda d: (d / MANIFEST_NAME).write_text('{"files": {}}'), "no entry for 'weights.bin'"),
        (
            lambda d: (d / MANIFEST_NAME).write_text(
                json.dumps({"files": {"weights.bin": {"sha256": "0" * 64}}})
            ),
            "artifact missing",
        ),
    ],
)
def test_broken_manifests_and_missing_files_are_clear_errors(tmp_path, setup, message):
    setup(tmp_path)
    with pytest.raises(ArtifactError, match=message):
        verified_path(tmp_path, "weights.bin")


def test_the_analyzer_refuses_a_tampered_head(tmp_path):
    for name in (MODEL_FILE, LABELS_FILE, MANIFEST_NAME):
        (tmp_path / name).symlink_to(DEFAULT_ARTIFACTS_DIR / name)
    shutil.copy(DEFAULT_ARTIFACTS_DIR / HEAD_FILE, tmp_path / HEAD_FILE)
    with (tmp_path / HEAD_FILE).open("ab") as handle:
        handle.write(b"\x00")
    with pytest.raises(ArtifactError, match=r"head\.npz failed its checksum"):
        EmbeddedAnalyzer(artifacts_dir=tmp_path).warm_up()


def test_the_analyzer_refuses_a_git_lfs_pointer_instead_of_the_model(tmp_path):
    for name in (HEAD_FILE, LABELS_FILE, MANIFEST_NAME):
        (tmp_path / name).symlink_to(DEFAULT_ARTIFACTS_DIR / name)
    (tmp_path / MODEL_FILE).write_text("version https://git-lfs.github.com/spec/v1\noid sha256:abc\nsize 1\n")
    with pytest.raises(ArtifactError, match="Git LFS pointer"):
        EmbeddedAnalyzer(artifacts_dir=tmp_path).warm_up()


@pytest.mark.parametrize(
    ("recorded", "message"),
    [({"backbone_sha256": "0" * 64}, "backbone 0{64}"), ({}, r"backbone \(not recorded\)")],
)
def test_a_head_fitted_for_another_backbone_is_refused(tmp_path, recorded, message):
    write_artifacts(tmp_path)
    record_artifact(tmp_path, HEAD_FILE, produced_by="another backbone's train run", details=recorded)
    load_head.cache_clear()
    with pytest.raises(ArtifactError, match=f"made from the features of {message}"):
        load_head(tmp_path, HEAD_FILE)


def test_the_committed_head_and_features_name_the_committed_backbone():
    files = load_manifest(DEFAULT_ARTIFACTS_DIR)["files"]
    backbone = files[MODEL_FILE]["sha256"]
    assert files[HEAD_FILE]["backbone_sha256"] == backbone
    assert files[FEATURES_FILE]["backbone_sha256"] == backbone
