"""No endpoint returns or changes another user's data: every user-scoped route of every service, called by a
second user against the first user's resources. A new user-scoped route fails this test until it is added."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import httpx

from apps.core.dependencies import get_current_user
from apps.main import create_gateway
from apps.waste.dependencies import read_poll
from tests.support.identity import SignedIn, sign_in
from tests.support.routes import user_scoped_routes
from tests.waste.conftest import image_bytes, upload_photo

Probe = Callable[[httpx.Client, SignedIn, SignedIn, dict[str, Any]], None]


def _owner_resources(api: httpx.Client, owner: SignedIn) -> dict[str, Any]:
    upload_id = upload_photo(api, owner.headers, image_bytes())
    job = api.post("/api/v1/waste/analyses", json={"upload_id": upload_id}, headers=owner.headers).json()
    spare_upload = upload_photo(api, owner.headers, image_bytes())
    avatar = api.post(
        "/api/v1/users/me/profile-image", json={"content_type": "image/png"}, headers=owner.headers
    )
    return {"job_id": job["job_id"], "spare_upload": spare_upload, "avatar_key": avatar.json()["object_key"]}


def _get_me(api: httpx.Client, owner: SignedIn, other: SignedIn, _: dict[str, Any]) -> None:
    assert api.get("/api/v1/users/me", headers=other.headers).json()["id"] == other.user_id


def _patch_me(api: httpx.Client, owner: SignedIn, other: SignedIn, found: dict[str, Any]) -> None:
    response = api.patch(
        "/api/v1/users/me", json={"profile_image_key": found["avatar_key"]}, headers=other.headers
    )
    assert response.status_code == 422
    renamed = api.patch("/api/v1/users/me", json={"nickname": "intruder"}, headers=other.headers)
    assert renamed.json()["id"] == other.user_id
    assert api.get("/api/v1/users/me", headers=owner.headers).json()["nickname"] == "owner"


def _profile_image(api: httpx.Client, owner: SignedIn, other: SignedIn, _: dict[str, Any]) -> None:
    slot = api.post(
        "/api/v1/users/me/profile-image", json={"content_type": "image/png"}, headers=other.headers
    )
    assert slot.json()["object_key"].startswith(f"profiles/{other.user_id}/")


def _scans(api: httpx.Client, owner: SignedIn, other: SignedIn, found: dict[str, Any]) -> None:
    assert api.get("/api/v1/users/me/scans", headers=other.headers).json()["items"] == []
    assert [
        item["job_id"] for item in api.get("/api/v1/users/me/scans", headers=owner.headers).json()["items"]
    ] == [found["job_id"]]


def _stats(api: httpx.Client, owner: SignedIn, other: SignedIn, _: dict[str, Any]) -> None:
    assert api.get("/api/v1/users/me/stats", headers=other.headers).json()["scans"] == 0


def _upload(api: httpx.Client, owner: SignedIn, other: SignedIn, _: dict[str, Any]) -> None:
    slot = api.post(
        "/api/v1/waste/uploads", json={"content_type": "image/jpeg"}, headers=other.headers
    ).json()
    assert slot["object_key"].startswith(f"scans/{other.user_id}/")


def _analyse(api: httpx.Client, owner: SignedIn, other: SignedIn, found: dict[str, Any]) -> None:
    response = api.post(
        "/api/v1/waste/analyses", json={"upload_id": found["spare_upload"]}, headers=other.headers
    )
    assert response.status_code == 404


def _read_job(api: httpx.Client, owner: SignedIn, other: SignedIn, found: dict[str, Any]) -> None:
    assert api.get(f"/api/v1/waste/analyses/{found['job_id']}", headers=other.headers).status_code == 404
    assert api.get(f"/api/v1/waste/analyses/{found['job_id']}", headers=owner.headers).status_code == 200


def _job_events(api: httpx.Client, owner: SignedIn, other: SignedIn, found: dict[str, Any]) -> None:
    assert (
        api.get(f"/api/v1/waste/analyses/{found['job_id']}/events", headers=other.headers).status_code == 404
    )


def _feedback(api: httpx.Client, owner: SignedIn, other: SignedIn, found: dict[str, Any]) -> None:
    url = f"/api/v1/waste/analyses/{found['job_id']}/feedback"
    assert api.post(url, json={"verdict": "confirmed"}, headers=other.headers).status_code == 404


def _logout(api: httpx.Client, owner: SignedIn, other: SignedIn, _: dict[str, Any]) -> None:
    assert api.post("/api/v1/auth/logout", headers=other.headers).status_code == 204
    assert api.get("/api/v1/users/me", headers=owner.headers).status_code == 200


def _delete_me(api: httpx.Client, owner: SignedIn, other: SignedIn, found: dict[str, Any]) -> None:
    assert api.delete("/api/v1/users/me", headers=other.headers).status_code == 202
    assert api.get("/api/v1/users/me", headers=owner.headers).status_code == 200
    assert api.get(f"/api/v1/waste/analyses/{found['job_id']}", headers=owner.headers).status_code == 200


# Every user-scoped route: what the second user tries against the first user's data. Ending the second user's
# session or account comes last.
PROBES: dict[tuple[str, str], Probe] = {
    ("GET", "/api/v1/users/me"): _get_me,
    ("PATCH", "/api/v1/users/me"): _patch_me,
    ("POST", "/api/v1/users/me/profile-image"): _profile_image,
    ("GET", "/api/v1/users/me/scans"): _scans,
    ("GET", "/api/v1/users/me/stats"): _stats,
    ("POST", "/api/v1/waste/uploads"): _upload,
    ("POST", "/api/v1/waste/analyses"): _analyse,
    ("GET", "/api/v1/waste/analyses/{job_id}"): _read_job,
    ("GET", "/api/v1/waste/analyses/{job_id}/events"): _job_events,
    ("POST", "/api/v1/waste/analyses/{job_id}/feedback"): _feedback,
    ("POST", "/api/v1/auth/logout"): _logout,
    ("DELETE", "/api/v1/users/me"): _delete_me,
}


def test_every_user_scoped_route_has_a_probe() -> None:
    gateway = create_gateway()
    # The two dependencies that turn a request into a user (both through `authenticate`): CurrentUser, and
    # the poll (`read_poll`), which reads the finished-job cache in the same Redis round trip.
    scoped = user_scoped_routes(gateway, get_current_user) | user_scoped_routes(gateway, read_poll)
    assert scoped == set(PROBES)


def test_a_second_user_can_neither_read_nor_change_the_first_users_data(api: httpx.Client) -> None:
    owner = sign_in(api, "owner")
    found = _owner_resources(api, owner)
    for (method, path), probe in PROBES.items():
        other = sign_in(api, f"other-{uuid.uuid4().hex[:6]}")
        probe(api, owner, other, found)
        assert api.get("/api/v1/users/me", headers=owner.headers).status_code == 200, (method, path)
