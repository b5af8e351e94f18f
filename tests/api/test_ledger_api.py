"""The ledger through HTTP: a match contract marks its postings contracted and suggestions show them
flagged; 认定登记 with every field, its refusals as stable 4xx codes, and the contract read model."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from api.deps import API_PREFIX as P
from models import MatchStatus
from tests.api.conftest import World
from tests.api.factory import Factory


def _contract_body(**extra: Any) -> dict[str, Any]:
    return {
        "contract_number": "HT-API-1",
        "contract_type": "技术转让",
        "title": "滚刀材料技术转让",
        "contract_amount": "1000000.00",
        "tech_transaction_amount": "900000.00",
        "signed_on": "2026-03-01",
        **extra,
    }


def test_match_contract_marks_postings_and_suggestions_flag_them(client: TestClient, world: World) -> None:
    f = Factory(world)
    match_id = f.match(MatchStatus.ACCEPTED)
    other_need = f.need(owner="other_enterprise")
    created = client.post(
        f"{P}/contracts", json=_contract_body(match_id=match_id), headers=world.headers("broker")
    )
    assert created.status_code == 201, created.text
    match = client.get(f"{P}/matches/{match_id}", headers=world.headers("admin")).json()
    need_id, ach_id = match["need"]["id"], match["achievement"]["id"]
    for side, pid in (("needs", need_id), ("achievements", ach_id)):
        assert (
            client.get(f"{P}/{side}/{pid}", headers=world.headers("admin")).json()["status"] == "contracted"
        )
    shown = client.get(
        f"{P}/needs/{other_need}/suggestions", headers=world.headers("other_enterprise")
    ).json()
    hit = next(s for s in shown if s["posting"]["id"] == ach_id)
    assert hit["posting"]["status"] == "contracted" and "contracted" in hit["explanation"]["flags"]
    manual = client.post(
        f"{P}/needs/{need_id}/status", json={"status": "open"}, headers=world.headers("enterprise")
    )
    assert manual.status_code == 409 and manual.json()["error"]["code"] == "ledger_status"
    cancelled = client.post(
        f"{P}/contracts/{created.json()['id']}/cancel",
        json={"reason": "协商解除"},
        headers=world.headers("broker"),
    )
    assert cancelled.status_code == 200
    assert client.get(f"{P}/needs/{need_id}", headers=world.headers("admin")).json()["status"] == "open"


def test_registration_in_full_and_its_refusals(client: TestClient, world: World) -> None:
    f = Factory(world)
    cid = f.contract("1000000.00")
    url, reg = f"{P}/contracts/{cid}/registration", world.headers("registrar")
    for body, status, code in (
        ({"registered_on": "2026-03-05", "conclusion": "不予登记"}, 422, "reason_required"),
        ({"registered_on": "2026-03-05", "conclusion": "作废"}, 422, "validation_error"),
        (
            {"registered_on": "2026-03-05", "registered_amount": "1.00", "subtype": "委托开发"},
            422,
            "subtype_mismatch",
        ),
        (
            {"registered_on": "2026-03-05", "term_start": "2026-03-02", "term_end": "2026-03-01"},
            422,
            "validation_error",
        ),
        (
            {"registered_on": "2026-03-05", "registered_amount": "1.00", "tech_income": "2.00"},
            422,
            "invalid_amount",
        ),
    ):
        refused = client.post(url, json=body, headers=reg)
        assert (refused.status_code, refused.json()["error"]["code"]) == (status, code), body
    returned = client.post(
        url,
        json={"registered_on": "2026-03-05", "conclusion": "退回补正", "reason": "缺少专利证书"},
        headers=reg,
    )
    assert returned.status_code == 200 and returned.json()["status"] == "signed"
    body = {
        "registered_on": "2026-03-10",
        "registration_number": "2026410100888001",
        "registered_amount": "1000000.00",
        "tech_income": "850000.00",
        "subtype": "专利权转让",
        "ip_type": "发明专利",
        "ip_number": "ZL202310000001.1",
        "term_start": "2026-03-01",
        "term_end": "2028-02-29",
        "payment_method": "提成支付",
    }
    done = client.post(url, json=body, headers=reg)
    assert done.status_code == 200, done.text
    detail = client.get(f"{P}/contracts/{cid}", headers=reg).json()
    assert detail["status"] == "registered" and detail["payments"] == []
    assert {k: detail["registration"][k] for k in body} == body
    assert detail["registration"]["conclusion"] == "登记"
    again = client.post(url, json=body, headers=reg)
    assert (again.status_code, again.json()["error"]["code"]) == (409, "already_registered")
    totals = client.get(f"{P}/stats/totals", headers=world.headers("admin")).json()
    assert (totals["registered_amount"], totals["tech_transaction_amount"]) == ("1000000.00", "850000.00")
