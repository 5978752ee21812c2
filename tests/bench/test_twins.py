"""The async GET twin (bench/twins.py) does what the product's poll does, on the product's async clients."""

from __future__ import annotations

import uuid

import httpx
from fastapi.testclient import TestClient

from apps.core.access_tokens import revoke_user
from apps.core.cache import get_redis
from apps.core.settings import get_settings
from bench.twins import create_twin_app
from tests.support.identity import sign_in
from tests.waste.conftest import image_bytes, upload_photo

ANALYSES = "/api/v1/waste/analyses"


def test_the_async_twin_reads_its_owners_job_only_and_honours_revocation(api: httpx.Client) -> None:
    owner, stranger = sign_in(api), sign_in(api)
    upload_id = upload_photo(api, owner.headers, image_bytes())
    submitted = api.post(ANALYSES, json={"upload_id": upload_id}, headers=owner.headers)
    assert submitted.status_code == 202, submitted.text
    job_id = submitted.json()["job_id"]
    path = f"/twin/async/analyses/{job_id}"

    with TestClient(create_twin_app()) as twins:
        read = twins.get(path, headers=owner.headers)
        assert read.status_code == 200, read.text
        assert read.json()["job_id"] == job_id and read.json()["status"] == "queued"
        assert twins.get(path, headers=stranger.headers).status_code == 404
        assert twins.get(f"/twin/async/analyses/{uuid.uuid4()}", headers=owner.headers).status_code == 404
        assert twins.get(path).status_code == 401
        revoke_user(get_redis(), uuid.UUID(owner.user_id), get_settings())
        assert twins.get(path, headers=owner.headers).status_code == 401
