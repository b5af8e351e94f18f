"""Every console page refuses or admits each role exactly as the REST API does: public halls for
everyone; the broker workspace for brokers (their own matches) and admins; statistics and targets for
admins and registration agencies; subsidies, management and jobs for admins only."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.console.conftest import ConsoleEnv, login

ROLES = ("anonymous", "enterprise", "institution", "broker", "registrar", "admin")
OK, LOGIN, FORBIDDEN = 200, 303, 403


def _expect(allowed: set[str], role: str) -> int:
    if role in allowed:
        return OK
    return LOGIN if role == "anonymous" else FORBIDDEN


def _pages(env: ConsoleEnv) -> list[tuple[str, set[str]]]:
    match = "/console/broker/matches/1"
    everyone = set(ROLES)
    return [
        ("/console/hall", everyone),
        ("/console/hall/live.json", everyone),
        ("/console/achievements", everyone),
        ("/console/achievements?field=F03&maturity=%E4%B8%AD%E8%AF%95&region=410100&q=%E9%87%91", everyone),
        ("/console/broker", {"broker", "admin"}),
        ("/console/broker?all=true&sort=-created_at&field=F03", {"broker", "admin"}),
        (match, {"broker", "admin"}),
        (f"{match}/contract", {"broker", "admin"}),
        ("/console/registrar", {"registrar", "admin"}),
        ("/console/admin", {"registrar", "admin"}),
        ("/console/admin?year=2024", {"registrar", "admin"}),
        ("/console/admin/export/turnover_month.csv", {"registrar", "admin"}),
        ("/console/admin/export/targets.xlsx", {"registrar", "admin"}),
        ("/console/admin/export/subsidies.csv", {"admin"}),
        ("/console/admin/targets", {"admin"}),
        ("/console/admin/rules", {"admin"}),
    ]


@pytest.mark.parametrize("role", ROLES)
def test_each_page_admits_exactly_the_roles_the_api_does(
    client: TestClient, env: ConsoleEnv, role: str
) -> None:
    if role != "anonymous":
        login(client, role)
    for path, allowed in _pages(env):
        response = client.get(path, follow_redirects=False)
        expected = _expect(allowed, role)
        assert response.status_code == expected, (role, path, response.status_code)
        if expected == LOGIN:
            assert response.headers["location"].startswith("/console/login?next=")
        if expected == FORBIDDEN:
            assert "您没有权限" in response.text
        if response.headers.get("content-type", "").startswith("text/html"):
            assert "script-src 'self'" in response.headers["content-security-policy"]


def test_a_broker_sees_only_matches_assigned_to_them(client: TestClient, env: ConsoleEnv) -> None:
    from sqlmodel import Session

    from models import Broker, Role, User
    from tests.console.seed import password_hash

    with Session(env.engine) as s:
        other = User(
            username="broker2",
            display_name="周经纪",
            role=Role.BROKER,
            org_id=env.seeded.org["center"],
            password_hash=password_hash(),
        )
        s.add(other)
        s.flush()
        s.add(Broker(user_id=other.id or 0, org_id=env.seeded.org["center"], field_codes=["F01"]))
        s.commit()
    login(client, "broker2")
    queue = client.get("/console/broker?all=true")
    assert queue.status_code == 200 and "/console/broker/matches/" not in queue.text
    assert client.get("/console/broker/matches/1").status_code == FORBIDDEN


def test_job_endpoints_answer_scripts_in_json(client: TestClient) -> None:
    anonymous = client.get("/console/admin/jobs/nope.json")
    assert anonymous.status_code == 401 and anonymous.json()["error"]["code"] == "unauthorized"
    login(client, "registrar")
    assert client.get("/console/admin/jobs/nope.json").status_code == FORBIDDEN
    client.cookies.clear()
    login(client, "admin")
    missing = client.get("/console/admin/jobs/nope.json")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("/console/broker/matches/1/decide", {"decision": "accept"}),
        ("/console/broker/matches/1/messages", {"body": "你好"}),
        ("/console/admin/targets", {"code": "X"}),
        ("/console/admin/rules", {"code": "X"}),
        ("/console/logout", {}),
    ],
)
def test_state_changing_forms_need_the_session_csrf_token(
    client: TestClient, path: str, data: dict[str, str]
) -> None:
    login(client, "admin")
    missing = client.post(path, data=data, follow_redirects=False)
    wrong = client.post(path, data={**data, "csrf_token": "forged"}, follow_redirects=False)
    assert missing.status_code == FORBIDDEN and wrong.status_code == FORBIDDEN
    assert "CSRF" in missing.text


def test_login_refuses_bad_passwords_forged_forms_and_foreign_redirects(client: TestClient) -> None:
    from tests.console.conftest import csrf_of

    page = client.get("/console/login?next=//evil.example/x")
    token = csrf_of(page.text)
    assert 'value="//evil.example/x"' not in page.text
    bad = client.post("/console/login", data={"username": "admin", "password": "wrong", "csrf_token": token})
    assert bad.status_code == 401 and "用户名或密码错误" in bad.text
    forged = client.post("/console/login", data={"username": "admin", "password": "x", "csrf_token": "nope"})
    assert forged.status_code == 401 and "已过期" in forged.text
    page = client.get("/console/login")
    ok = client.post(
        "/console/login",
        data={
            "username": "admin",
            "password": "console-test-pass",
            "csrf_token": csrf_of(page.text),
            "next": "https://evil.example/",
        },
        follow_redirects=False,
    )
    assert ok.status_code == 303 and ok.headers["location"] == "/console/admin"
    cookie = ok.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie


def test_an_api_token_is_not_a_console_session(client: TestClient, env: ConsoleEnv) -> None:
    from api.auth import create_access_token

    token, _ = create_access_token(env.settings, env.seeded.user["admin"])
    client.cookies.set("tm_console", token, path="/console")
    assert client.get("/console/admin", follow_redirects=False).status_code == LOGIN
