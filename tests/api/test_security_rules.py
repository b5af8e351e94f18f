"""Issue 19's security rules at the API: API keys cannot manage API keys (D6), and the service
refuses to start with the documented default secret outside development mode (D7)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from services.config import DEFAULT_SECRET, InsecureSecretError, Settings
from tests.api.conftest import World
from tests.api.factory import Factory

P = "/api/v1"
ROOT = Path(__file__).resolve().parents[2]


def test_an_api_key_cannot_mint_list_or_revoke_keys(client: TestClient, world: World) -> None:
    f = Factory(world)
    key_id, key = f.api_key("enterprise")
    org = world.org["ent_a"]
    as_key = {"X-API-Key": key}
    assert client.get(f"{P}/auth/me", headers=as_key).status_code == 200

    minted = client.post(f"{P}/organizations/{org}/api-keys", json={"name": "child"}, headers=as_key)
    assert minted.status_code == 403 and minted.json()["error"]["code"] == "api_key_not_allowed"
    for method, path in (
        ("GET", f"{P}/organizations/{org}/api-keys"),
        ("DELETE", f"{P}/organizations/{org}/api-keys/{key_id}"),
    ):
        r = client.request(method, path, headers=as_key)
        assert r.status_code == 403 and r.json()["error"]["code"] == "api_key_not_allowed"
    keys = client.get(f"{P}/organizations/{org}/api-keys", headers=world.headers("enterprise")).json()
    assert [k["id"] for k in keys] == [key_id]  # no child exists to outlive its parent

    revoked = client.delete(f"{P}/organizations/{org}/api-keys/{key_id}", headers=world.headers("enterprise"))
    assert revoked.status_code == 200
    assert client.get(f"{P}/auth/me", headers=as_key).status_code == 401


@pytest.mark.parametrize("secret", [DEFAULT_SECRET, "short-secret"])
def test_the_app_refuses_a_known_or_short_secret_outside_dev_mode(secret: str, tmp_path: Path) -> None:
    with pytest.raises(InsecureSecretError):
        create_app(Settings(data_dir=tmp_path, secret_key=secret, dev_mode=False))
    create_app(Settings(data_dir=tmp_path, secret_key=secret, dev_mode=True))  # make run's mode


def test_serve_refuses_the_default_secret_with_one_line(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TECHMATCH_")}
    env |= {"TECHMATCH_DATA_DIR": str(tmp_path), "TECHMATCH_ENCODER": "hashing"}
    done = subprocess.run(
        [sys.executable, "-m", "cli.main", "serve", "--port", "1"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1
    assert done.stderr.strip().count("\n") == 0 and "TECHMATCH_SECRET_KEY" in done.stderr


def test_the_recent_deals_board_is_public_in_the_api_as_in_the_hall(client: TestClient, world: World) -> None:
    """D12: one answer for the trading-hall board: public at `/contracts/recent` and in the console."""
    Factory(world).contract()
    api = client.get(f"{P}/contracts/recent")
    hall = client.get("/console/hall/live.json")
    assert api.status_code == hall.status_code == 200
    assert [row["id"] for row in api.json()][:15] == [row["id"] for row in hall.json()["board"]]
