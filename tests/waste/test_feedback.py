"""Feedback on analyses: owner only, once per job, finished jobs only; the scan's features are kept."""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx
import numpy as np
import pytest
from sqlmodel import Session

from apps.cli import main
from apps.core.db import get_engine
from apps.core.images import decode_image
from apps.waste.analysis.classifier import retrain as retraining
from apps.waste.analysis.types import Classification, ImageInput
from apps.waste.feedback.models import ScanFeatures
from apps.waste.feedback.service import decode_features, labelled_scans
from apps.waste.pipeline import embedded_analyzer
from apps.waste.tasks import run_analysis
from tests.support.classifications import confident
from tests.support.classifier_artifacts import write_artifacts
from tests.support.identity import sign_in
from tests.waste.conftest import SAMPLE_PHOTO, upload_photo


class Fixed:
    """An analyzer that always answers the same (the flow is under test here, not the model)."""

    def __init__(self, classification: Classification) -> None:
        self.classification = classification

    def analyze(self, image: ImageInput, hint: str | None = None) -> Classification:
        return self.classification


def submit(api: httpx.Client, auth: dict[str, str]) -> uuid.UUID:
    upload_id = upload_photo(api, auth, SAMPLE_PHOTO.read_bytes())
    response = api.post("/api/v1/waste/analyses", json={"upload_id": upload_id}, headers=auth)
    assert response.status_code == 202, response.text
    return uuid.UUID(response.json()["job_id"])


def analysed(api: httpx.Client, auth: dict[str, str], answer: Classification | None = None) -> uuid.UUID:
    """A job the worker code has finished in this process (a confident 플라스틱 answer by default)."""
    job_id = submit(api, auth)
    run_analysis(job_id, Fixed(answer or confident("recyclable/plastic")))
    return job_id


def feedback(api: httpx.Client, auth: dict[str, str], job_id: uuid.UUID, **body: object) -> httpx.Response:
    return api.post(f"/api/v1/waste/analyses/{job_id}/feedback", json=body, headers=auth)


def test_the_owner_confirms_an_answer_once_and_the_scan_features_are_kept(
    api: httpx.Client, auth: dict[str, str]
) -> None:
    job_id = analysed(api, auth)
    given = feedback(api, auth, job_id, verdict="confirmed")
    assert given.status_code == 201, given.text
    body = given.json()
    assert (body["verdict"], body["category"], body["answered_category"]) == (
        "confirmed",
        "recyclable/plastic",
        "recyclable/plastic",
    )
    assert body["features_kept"] is True

    again = feedback(api, auth, job_id, verdict="corrected", category="recyclable/glass")
    assert again.status_code == 409
    assert "already" in again.json()["detail"]

    with Session(get_engine()) as session:
        stored = session.get(ScanFeatures, job_id)
        assert stored is not None
        sha = stored.backbone_sha256
        mine = [scan for scan in labelled_scans(session, sha) if scan.category == "recyclable/plastic"]
    assert mine, "the confirmed scan is available to a retrain"
    decoded = decode_image(SAMPLE_PHOTO.read_bytes(), "image/jpeg", 40_000_000)  # as the worker does
    photo = embedded_analyzer().features(ImageInput(b"", "image/jpeg", decoded))
    assert np.allclose(decode_features(stored.features), photo, atol=1e-2)


def test_feedback_on_someone_elses_analysis_is_not_found(api: httpx.Client, auth: dict[str, str]) -> None:
    job_id = analysed(api, auth)
    stranger = sign_in(api, "stranger").headers
    response = feedback(api, stranger, job_id, verdict="confirmed")
    assert response.status_code == 404
    assert feedback(api, auth, job_id, verdict="confirmed").status_code == 201


def test_an_unknown_job_is_not_found(api: httpx.Client, auth: dict[str, str]) -> None:
    assert feedback(api, auth, uuid.uuid4(), verdict="confirmed").status_code == 404


def test_an_unfinished_analysis_takes_no_feedback(api: httpx.Client, auth: dict[str, str]) -> None:
    job_id = submit(api, auth)  # queued: no worker runs here
    response = feedback(api, auth, job_id, verdict="confirmed")
    assert response.status_code == 409
    assert "queued" in response.json()["detail"]


def test_a_correction_names_a_real_category_and_a_matching_item(
    api: httpx.Client, auth: dict[str, str]
) -> None:
    job_id = analysed(api, auth)
    unknown = feedback(api, auth, job_id, verdict="corrected", category="recyclable/unobtainium")
    assert unknown.status_code == 422
    mismatched = feedback(
        api,
        auth,
        job_id,
        verdict="corrected",
        category="recyclable/glass",
        item="recyclable/paper_pack/milk_carton",
    )
    assert mismatched.status_code == 422
    assert feedback(api, auth, job_id, verdict="corrected").status_code == 422  # no category
    right = feedback(
        api,
        auth,
        job_id,
        verdict="corrected",
        category="recyclable/paper_pack",
        item="recyclable/paper_pack/milk_carton",
    )
    assert right.status_code == 201, right.text
    assert right.json()["answered_category"] == "recyclable/plastic"


def test_an_uncertain_answer_cannot_be_confirmed_only_corrected(
    api: httpx.Client, auth: dict[str, str]
) -> None:
    uncertain = Classification(status="uncertain", category=None, confidence=0.0, source="embedded")
    job_id = analysed(api, auth, uncertain)
    assert feedback(api, auth, job_id, verdict="confirmed").status_code == 422
    corrected = feedback(api, auth, job_id, verdict="corrected", category="recyclable/textile")
    assert corrected.status_code == 201
    assert corrected.json()["answered_category"] is None


@pytest.mark.parametrize("body", [{"verdict": "maybe"}, {"verdict": "confirmed", "category": "food"}])
def test_malformed_feedback_is_rejected(
    api: httpx.Client, auth: dict[str, str], body: dict[str, str]
) -> None:
    job_id = analysed(api, auth)
    assert feedback(api, auth, job_id, **body).status_code == 422


def test_the_retrain_command_compares_on_the_fixed_split_then_writes_a_versioned_head(
    database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    artifacts = tmp_path / "artifacts"
    write_artifacts(artifacts)  # a synthetic backbone: no kept scan features match it
    command = ["classifier", "retrain", "--artifacts", str(artifacts), "--head", "head.npz"]
    assert main([*command, "--target-accuracy", "0.9", "--dry-run"]) == 0
    report = capsys.readouterr().out
    assert "0 labelled scan(s)" in report
    assert "before:" in report
    assert "after:" in report
    assert not list(artifacts.glob("head-*.npz"))
    assert main([*command, "--target-accuracy", "0.9"]) == 0
    (written,) = artifacts.glob("head-*.npz")
    assert f"ECO2_CLASSIFIER_HEAD={written.name}" in capsys.readouterr().out


def test_a_refused_retrain_exits_non_zero_and_writes_nothing(
    database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    artifacts = tmp_path / "artifacts"
    write_artifacts(artifacts)

    def worse(*_args: object, **_kwargs: object) -> None:
        raise retraining.RetrainRefused("the retrained head is worse on the fixed test split (right 1 < 2)")

    monkeypatch.setattr(retraining, "retrain", worse)
    assert main(["classifier", "retrain", "--artifacts", str(artifacts)]) == 1
    assert "refused: the retrained head is worse" in capsys.readouterr().err
    assert not list(artifacts.glob("head-*.npz"))
