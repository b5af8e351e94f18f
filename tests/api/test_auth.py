"""Sign-in, tokens and API keys: what gets in, what is refused, and with which error code."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from api.auth import create_access_token
from models import ApiKey, AuditEvent, Need, User
from tests.api.conftest import PASSWORD, World
from tests.api.factory import Factory

P = "/api/v1"
NEED = {"title": "寻求盾构滚刀耐磨材料", "description": "刀盘磨损严重。", "field_code": "F02"}


def _code(response: object) -> str:
    return str(response.json()["error"]["code"])  # type: ignore[attr-defined]


def test_password_flow_issues_a_working_token(client: TestClient, world: World) -> None:
    r = client.post(f"{P}/auth/token", data={"username": "enterprise", "password": PASSWORD})
    assert r.status_code == 200
    body = r.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == world.settings.token_minutes * 60
    me = client.get(f"{P}/auth/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.json() == {
        "user_id": world.user["enterprise"],
        "org_id": world.org["ent_a"],
        "role": "enterprise",
        "broker_id": None,
    }


def test_broker_token_resolves_the_broker_profile(client: TestClient, world: World) -> None:
    me = client.get(f"{P}/auth/me", headers=world.headers("broker")).json()
    assert me["broker_id"] == world.broker_id and me["role"] == "broker"


def test_wrong_password_and_unknown_user_get_the_same_answer(client: TestClient) -> None:
    wrong = client.post(f"{P}/auth/token", data={"username": "enterprise", "password": "nope-nope"})
    unknown = client.post(f"{P}/auth/token", data={"username": "nobody", "password": PASSWORD})
    assert wrong.status_code == unknown.status_code == 401
    assert _code(wrong) == _code(unknown) == "invalid_credentials"
    assert wrong.json() == unknown.json()
    assert wrong.headers["WWW-Authenticate"] == "Bearer"


def test_expired_forged_and_garbage_tokens_are_refused(client: TestClient, world: World) -> None:
    old, _ = create_access_token(
        world.settings, world.user["admin"], now=datetime.now(UTC) - timedelta(days=1)
    )
    forged = jwt.encode(
        {
            "sub": str(world.user["admin"]),
            "exp": datetime.now(UTC) + timedelta(hours=1),
            "aud": "techmatch-api",
        },
        "not-the-secret-key-but-long-enough-for-hs256",
        algorithm="HS256",
    )
    unsigned = jwt.encode({"sub": str(world.user["admin"])}, key=None, algorithm="none")
    for token, code in (
        (old, "token_expired"),
        (forged, "invalid_token"),
        (unsigned, "invalid_token"),
        ("x.y.z", "invalid_token"),
    ):
        r = client.get(f"{P}/auth/me", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 401 and _code(r) == code, (token, r.json())


def test_deactivated_user_loses_access_at_once(client: TestClient, world: World) -> None:
    headers = world.headers("enterprise")
    assert client.get(f"{P}/auth/me", headers=headers).status_code == 200
    with Session(world.engine) as s:
        user = s.get(User, world.user["enterprise"])
        assert user is not None
        user.is_active = False
        s.add(user)
        s.commit()
    r = client.get(f"{P}/auth/me", headers=headers)
    assert r.status_code == 401 and _code(r) == "invalid_token"
    login = client.post(f"{P}/auth/token", data={"username": "enterprise", "password": PASSWORD})
    assert login.status_code == 401


def test_api_key_lifecycle(client: TestClient, world: World) -> None:
    org = world.org["ent_a"]
    created = client.post(
        f"{P}/organizations/{org}/api-keys", json={"name": "ERP 系统"}, headers=world.headers("enterprise")
    )
    assert created.status_code == 201
    key = created.json()["key"]
    assert key.startswith(created.json()["prefix"])
    listed = client.get(f"{P}/organizations/{org}/api-keys", headers=world.headers("enterprise")).json()
    assert [k["prefix"] for k in listed] == [created.json()["prefix"]]
    assert all("key" not in k for k in listed)  # the secret is shown once only
    with Session(world.engine) as s:
        stored = s.exec(select(ApiKey)).one()
        assert key not in stored.key_hash and stored.key_hash != key

    posted = client.post(f"{P}/needs", json=NEED, headers={"X-API-Key": key})
    assert posted.status_code == 201 and posted.json()["org_id"] == org
    me = client.get(f"{P}/auth/me", headers={"X-API-Key": key}).json()
    assert me["role"] == "enterprise" and me["org_id"] == org

    revoked = client.delete(
        f"{P}/organizations/{org}/api-keys/{created.json()['id']}", headers=world.headers("enterprise")
    )
    assert revoked.status_code == 200 and revoked.json()["revoked_at"] is not None
    r = client.post(f"{P}/needs", json=NEED, headers={"X-API-Key": key})
    assert r.status_code == 401 and _code(r) == "invalid_api_key"
    with Session(world.engine) as s:
        assert len(s.exec(select(Need)).all()) == 1
        assert {e.action for e in s.exec(select(AuditEvent).where(AuditEvent.entity == "api_key")).all()} == {
            "create",
            "revoke",
        }


def test_wrong_or_tampered_api_keys_are_refused(client: TestClient, world: World) -> None:
    _, key = Factory(world).api_key("institution")
    assert client.get(f"{P}/auth/me", headers={"X-API-Key": key}).json()["role"] == "institution"
    for bad in (key[:-1] + ("A" if key[-1] != "A" else "B"), "tm_000000000000.x", "garbage", key[:15]):
        r = client.get(f"{P}/auth/me", headers={"X-API-Key": bad})
        assert r.status_code == 401 and _code(r) == "invalid_api_key", bad


def test_agencies_get_no_api_keys(client: TestClient, world: World) -> None:
    r = client.post(
        f"{P}/organizations/{world.org['center']}/api-keys",
        json={"name": "x"},
        headers=world.headers("admin"),
    )
    assert r.status_code == 422 and _code(r) == "no_api_role"


def test_bearer_token_wins_over_api_key(client: TestClient, world: World) -> None:
    _, key = Factory(world).api_key("institution")
    me = client.get(f"{P}/auth/me", headers={"X-API-Key": key, **world.headers("enterprise")}).json()
    assert me["role"] == "enterprise"


def test_admin_creates_organisations_and_users_that_can_sign_in(client: TestClient, world: World) -> None:
    admin = world.headers("admin")
    org = client.post(
        f"{P}/organizations",
        json={
            "name": "郑州新材料公司",
            "kind": "enterprise",
            "uscc": "91350100M000100Y43",
            "region_code": "410100",
        },
        headers=admin,
    )
    assert org.status_code == 201
    again = client.post(
        f"{P}/organizations",
        json={"name": "另一家", "kind": "enterprise", "uscc": "91350100M000100Y43", "region_code": "410100"},
        headers=admin,
    )
    assert again.status_code == 409 and _code(again) == "duplicate_uscc"
    bad_uscc = client.post(
        f"{P}/organizations",
        json={"name": "x", "kind": "enterprise", "uscc": "91350100M000100Y44", "region_code": "410100"},
        headers=admin,
    )
    assert bad_uscc.status_code == 422 and "checksum" in bad_uscc.json()["error"]["message"]
    user = {
        "username": "newcomer",
        "display_name": "新人",
        "role": "enterprise",
        "org_id": org.json()["id"],
        "password": "a long password",
    }
    assert client.post(f"{P}/users", json=user, headers=admin).status_code == 201
    assert client.post(f"{P}/users", json=user, headers=admin).json()["error"]["code"] == "duplicate_username"
    mismatch = client.post(f"{P}/users", json={**user, "username": "reg", "role": "registrar"}, headers=admin)
    assert mismatch.status_code == 422 and _code(mismatch) == "role_org_mismatch"
    token = client.post(f"{P}/auth/token", data={"username": "newcomer", "password": "a long password"})
    assert token.status_code == 200
    listed = client.get(f"{P}/users", params={"org_id": org.json()["id"]}, headers=admin).json()
    assert [u["username"] for u in listed["items"]] == ["newcomer"] and "password_hash" not in listed[
        "items"
    ][0]
