"""Hostile and clumsy input: refused with a 4xx and a stable code (or stored inertly), never a 500,
and never a stack trace in the response."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, func, select

from models import Need
from tests.api.conftest import World

P = "/api/v1"
GOOD = {"title": "寻求滚刀材料", "description": "刀盘磨损", "field_code": "F02"}


def _error(r: Any, status: int) -> str:
    assert r.status_code == status, (r.status_code, r.text)
    body = r.json()
    assert set(body) == {"error"} and isinstance(body["error"]["message"], str)
    assert "Traceback" not in r.text and 'File "' not in r.text
    return str(body["error"]["code"])


def _count(world: World) -> int:
    with Session(world.engine) as s:
        return int(s.exec(select(func.count()).select_from(Need)).one())


def test_oversized_body_by_content_length(client: TestClient, world: World) -> None:
    big = {**GOOD, "description": "磨" * (world.settings.max_body_bytes // 3 + 10)}
    r = client.post(f"{P}/needs", json=big, headers=world.headers("enterprise"))
    assert _error(r, 413) == "payload_too_large"
    assert _count(world) == 0


def test_oversized_body_while_streaming(client: TestClient, world: World) -> None:
    """No Content-Length (chunked): the limit is enforced as the bytes arrive."""

    def chunks() -> Iterator[bytes]:
        yield b'{"title": "x", "description": "'
        for _ in range(world.settings.max_body_bytes // 1000 + 5):
            yield b"a" * 1000
        yield b'", "field_code": "F02"}'

    headers = {**world.headers("enterprise"), "Content-Type": "application/json"}
    r = client.post(f"{P}/needs", content=chunks(), headers=headers)
    assert _error(r, 413) == "payload_too_large"
    imported = client.post(
        f"{P}/needs/import?format=jsonl", content=chunks(), headers=world.headers("enterprise")
    )
    assert _error(imported, 413) == "payload_too_large"
    assert _count(world) == 0


def test_invalid_utf8_is_a_client_error(client: TestClient, world: World) -> None:
    headers = {**world.headers("enterprise"), "Content-Type": "application/json"}
    r = client.post(
        f"{P}/needs",
        content=b'{"title": "\xff\xfe\xfa", "description": "x", "field_code": "F02"}',
        headers=headers,
    )
    assert _error(r, 400) == "bad_request"
    lone_surrogate = rb'{"title": "a\ud800b", "description": "x", "field_code": "F02"}'
    assert (
        _error(client.post(f"{P}/needs", content=lone_surrogate, headers=headers), 422) == "validation_error"
    )
    assert _count(world) == 0


@pytest.mark.parametrize(
    ("change", "where"),
    [
        ({"title": 12345}, "title"),
        ({"title": ""}, "title"),
        ({"title": "   "}, "title"),
        ({"title": "长" * 201}, "title"),
        ({"field_code": ["F02"]}, "field_code"),
        ({"field_code": "F2"}, "field_code"),
        ({"budget_max": -1}, "budget_max"),
        ({"budget_max": "100.005"}, "budget_max"),
        ({"budget_max": "NaN"}, "budget_max"),
        ({"budget_max": "1e30"}, "budget_max"),
        ({"budget_min": "10", "budget_max": "5"}, ""),
        ({"modes": ["白送"]}, "modes"),
        ({"visibility": "secret"}, "visibility"),
        ({"deadline": "2026-02-30"}, "deadline"),
        ({"keywords": "不是列表"}, "keywords"),
        ({"owner": "someone else"}, "owner"),
    ],
)
def test_wrong_values_are_refused_with_the_field_named(
    client: TestClient, world: World, change: dict[str, Any], where: str
) -> None:
    r = client.post(f"{P}/needs", json={**GOOD, **change}, headers=world.headers("enterprise"))
    assert _error(r, 422) == "validation_error"
    assert where in r.json()["error"]["message"]
    assert _count(world) == 0


def test_unknown_codes_and_money_in_contracts(client: TestClient, world: World) -> None:
    r = client.post(f"{P}/needs", json={**GOOD, "field_code": "F99"}, headers=world.headers("enterprise"))
    assert _error(r, 422) == "unknown_field_code"
    r = client.post(f"{P}/needs", json={**GOOD, "region_code": "999999"}, headers=world.headers("enterprise"))
    assert _error(r, 422) == "unknown_region_code"
    contract = {
        "contract_number": "HT-1",
        "contract_type": "技术转让",
        "title": "t",
        "buyer_org_id": world.org["ent_a"],
        "seller_org_id": world.org["uni"],
        "field_code": "F02",
        "contract_amount": "100.001",
        "tech_transaction_amount": "1",
        "signed_on": "2026-01-01",
    }
    for amount in ("100.001", "-5", "abc"):
        r = client.post(
            f"{P}/contracts", json={**contract, "contract_amount": amount}, headers=world.headers("broker")
        )
        assert _error(r, 422) == "validation_error"
    r = client.post(
        f"{P}/contracts",
        json={**contract, "contract_amount": "1", "tech_transaction_amount": "2"},
        headers=world.headers("broker"),
    )
    assert _error(r, 422) == "validation_error"


def test_malformed_requests(client: TestClient, world: World) -> None:
    h = world.headers("enterprise")
    json_headers = {**h, "Content-Type": "application/json"}
    assert (
        _error(client.post(f"{P}/needs", content=b"{not json", headers=json_headers), 422)
        == "validation_error"
    )
    assert (
        _error(client.post(f"{P}/needs", content=b"[1, 2]", headers=json_headers), 422) == "validation_error"
    )
    deep = b"[" * 100_00 + b"]" * 100_00
    assert client.post(f"{P}/needs", content=deep, headers=json_headers).status_code in (400, 422)
    assert (
        _error(
            client.post(f"{P}/needs", content=b"title=x", headers={**h, "Content-Type": "text/plain"}), 422
        )
        == "validation_error"
    )
    assert _error(client.get(f"{P}/needs/abc", headers=h), 422) == "validation_error"
    assert _error(client.get(f"{P}/needs/99999999999999999999999", headers=h), 422) == "validation_error"
    assert _error(client.get(f"{P}/needs/-1", headers=h), 422) == "validation_error"
    assert _error(client.get(f"{P}/nowhere", headers=h), 404) == "not_found"
    assert _error(client.delete(f"{P}/needs", headers=h), 405) == "method_not_allowed"
    assert client.get(f"{P}/needs", params={"q": "%ff\u00e9"}, headers=h).status_code == 200
    assert _error(client.get(f"{P}/needs", params={"q": "a\x00b"}, headers=h), 422) == "validation_error"


def test_nul_characters_are_refused_on_both_databases(client: TestClient, world: World) -> None:
    """PostgreSQL cannot store NUL in text, SQLite can: the schema refuses it the same way on both."""
    r = client.post(f"{P}/needs", json={**GOOD, "title": "滚刀\x00材料"}, headers=world.headers("enterprise"))
    assert _error(r, 422) == "validation_error"
    assert "control characters" in r.json()["error"]["message"]


def test_authorization_header_garbage(client: TestClient) -> None:
    for value in ("Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "Bearer " + "a" * 5000):
        r = client.get(f"{P}/auth/me", headers={"Authorization": value})
        assert r.status_code == 401 and r.json()["error"]["code"] in ("not_authenticated", "invalid_token")


def test_stats_and_export_filters_are_checked(client: TestClient, world: World) -> None:
    admin = world.headers("admin")
    for path in ("/stats/turnover", "/stats/funnel", "/exports/annual-report"):
        r = client.get(f"{P}{path}", params={"year": 2026, "region_code": "=\u00d5\x0b,"}, headers=admin)
        assert _error(r, 422) == "validation_error", path
    assert (
        client.get(f"{P}/stats/turnover", params={"region_code": "410100"}, headers=admin).status_code == 200
    )
    assert (
        _error(client.get(f"{P}/stats/turnover", params={"group_by": "password"}, headers=admin), 422)
        == "validation_error"
    )


def test_control_characters_are_refused_and_never_break_the_excel_export(
    client: TestClient, world: World
) -> None:
    contract = {
        "contract_number": "HT-CTL",
        "contract_type": "技术转让",
        "title": "滚刀\x0b材料",
        "buyer_org_id": world.org["ent_a"],
        "seller_org_id": world.org["uni"],
        "field_code": "F02",
        "contract_amount": "1.00",
        "tech_transaction_amount": "1.00",
        "signed_on": "2026-01-01",
    }
    refused = client.post(f"{P}/contracts", json=contract, headers=world.headers("broker"))
    assert _error(refused, 422) == "validation_error"
    assert "control characters" in refused.json()["error"]["message"]
    assert (
        client.get(
            f"{P}/exports/contracts", params={"format": "xlsx"}, headers=world.headers("admin")
        ).status_code
        == 200
    )
