"""`ecoeco login` signs in to a local stack and keeps the tokens (owner-only file); `scan` uses them."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import httpx
import pytest

from apps.cli import login, main, stored_token
from tests.waste.conftest import SAMPLE_PHOTO


def test_login_saves_the_tokens_for_this_api_only(api: httpx.Client, tmp_path: Path) -> None:
    path = tmp_path / "ecoeco" / "credentials.json"
    user_id = login(str(api.base_url), "cli-tester", "터미널", path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    saved = json.loads(path.read_text())
    assert saved["user_id"] == user_id and saved["api"] == str(api.base_url)
    token = stored_token(str(api.base_url), path)
    assert token == saved["access_token"]
    assert (
        api.get("/api/v1/users/me", headers={"Authorization": f"Bearer {token}"}).json()["nickname"]
        == "터미널"
    )
    assert stored_token("http://127.0.0.1:1", path) is None
    assert login(str(api.base_url), "cli-tester", None, path) == user_id  # the same subject, the same user


def test_an_expired_saved_token_is_refreshed_and_the_refresh_token_rotated(
    api: httpx.Client, tmp_path: Path
) -> None:
    path = tmp_path / "credentials.json"
    login(str(api.base_url), "cli-expiring", None, path)
    saved = json.loads(path.read_text())
    path.write_text(json.dumps({**saved, "expires_at": 0}))
    token = stored_token(str(api.base_url), path)
    assert token is not None and token != saved["access_token"]
    assert json.loads(path.read_text())["refresh_token"] != saved["refresh_token"]
    assert api.get("/api/v1/users/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_scan_without_signing_in_says_how_to(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["scan", str(SAMPLE_PHOTO), "--credentials", str(tmp_path / "none.json")]
    assert main(argv) == 1
    assert "ecoeco login" in capsys.readouterr().err


def test_login_against_a_stack_that_refuses_local_sign_in(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from fastapi.testclient import TestClient

    from apps.core.dependencies import request_settings
    from apps.core.settings import get_settings
    from apps.main import create_app

    app = create_app(["auth"])
    app.dependency_overrides[request_settings] = lambda: get_settings().model_copy(
        update={"local_sign_in": False}
    )
    with TestClient(app) as client:
        response = client.post("/api/v1/auth/local/token", json={"subject": "x"})
    assert response.status_code == 404 and "not configured" in response.json()["detail"]
    closed = main(["login", "--api", "http://127.0.0.1:1", "--credentials", str(tmp_path / "c.json")])
    assert closed == 1 and "login failed" in capsys.readouterr().err
