"""The whole path over HTTP: postings → matching → assignment → broker review → negotiation →
contract → payment → registration → statistics and exports; plus the background reindex job."""

from __future__ import annotations

import csv
import io
import time
from decimal import Decimal
from typing import Any

from fastapi.testclient import TestClient
from openpyxl import load_workbook

from tests.api.conftest import World

P = "/api/v1"


def _ok(r: Any, status: int = 200) -> Any:
    assert r.status_code == status, r.json()
    return r.json()


def _matched_pair(client: TestClient, world: World) -> tuple[int, int, dict[str, Any]]:
    need = _ok(
        client.post(
            f"{P}/needs",
            json={
                "title": "盾构机刀盘磨损快",
                "description": "盾构施工中刀盘和滚刀磨损严重，换刀频繁。",
                "field_code": "F02",
            },
            headers=world.headers("enterprise"),
        ),
        201,
    )
    achievement = _ok(
        client.post(
            f"{P}/achievements",
            json={
                "title": "高耐磨硬质合金滚刀材料",
                "abstract": "用于盾构滚刀的硬质合金，耐磨性提高一倍，换刀次数减少。",
                "field_code": "F02",
            },
            headers=world.headers("institution"),
        ),
        201,
    )
    run = _ok(
        client.post(
            f"{P}/matching/run", json={"need_ids": [need["id"]], "k": 5}, headers=world.headers("broker")
        )
    )
    assert run["created"] == 1 and run["needs_queried"] == 1
    assigned = _ok(client.post(f"{P}/matching/assign", headers=world.headers("admin")))
    assert assigned["assigned"] == 1 and assigned["by_broker"] == {str(world.broker_id): 1}
    queue = _ok(client.get(f"{P}/matches", headers=world.headers("broker")))
    assert [(m["need_id"], m["achievement_id"], m["status"]) for m in queue] == [
        (need["id"], achievement["id"], "assigned")
    ]
    return need["id"], achievement["id"], queue[0]


def test_review_negotiate_contract_register_and_count(client: TestClient, world: World) -> None:
    _, _, match = _matched_pair(client, world)
    mid = match["id"]
    assert _ok(client.get(f"{P}/matches", headers=world.headers("admin")))[0]["id"] == mid
    detail = _ok(client.get(f"{P}/matches/{mid}", headers=world.headers("institution")))
    assert detail["need"]["title"] == "盾构机刀盘磨损快"

    stale = client.post(
        f"{P}/matches/{mid}/decision",
        json={"accept": True, "expected_version": 99},
        headers=world.headers("broker"),
    )
    assert stale.status_code == 409 and stale.json()["error"]["code"] == "stale_version"
    no_reason = client.post(
        f"{P}/matches/{mid}/decision", json={"accept": False}, headers=world.headers("broker")
    )
    assert no_reason.status_code == 422
    accepted = _ok(
        client.post(
            f"{P}/matches/{mid}/decision",
            json={"accept": True, "comment": "引荐双方"},
            headers=world.headers("broker"),
        )
    )
    assert accepted["status"] == "accepted"

    _ok(
        client.post(
            f"{P}/matches/{mid}/messages",
            json={"body": "我们想了解许可条件"},
            headers=world.headers("enterprise"),
        ),
        201,
    )
    _ok(
        client.post(
            f"{P}/matches/{mid}/messages",
            json={"body": "<i>可以</i>面谈"},
            headers=world.headers("institution"),
        ),
        201,
    )
    messages = _ok(client.get(f"{P}/matches/{mid}/messages", headers=world.headers("broker")))
    assert [m["body"] for m in messages] == ["我们想了解许可条件", "<i>可以</i>面谈"]
    assert (
        _ok(client.get(f"{P}/matches/{mid}", headers=world.headers("admin")))["match"]["status"]
        == "negotiating"
    )

    contract = _ok(
        client.post(
            f"{P}/contracts",
            json={
                "contract_number": "HT-2026-0001",
                "contract_type": "技术许可",
                "title": "滚刀材料技术许可",
                "match_id": mid,
                "contract_amount": "1200000.00",
                "tech_transaction_amount": "1000000.00",
                "signed_on": "2026-03-01",
            },
            headers=world.headers("broker"),
        ),
        201,
    )
    assert (contract["buyer_org_id"], contract["seller_org_id"], contract["broker_id"]) == (
        world.org["ent_a"],
        world.org["uni"],
        world.broker_id,
    )
    cid = contract["id"]
    paid = _ok(
        client.post(
            f"{P}/contracts/{cid}/payments",
            json={"amount": "200000.10", "paid_on": "2026-03-10"},
            headers=world.headers("enterprise"),
        ),
        201,
    )
    assert paid["paid_total"] == "200000.10"
    too_much = client.post(
        f"{P}/contracts/{cid}/payments",
        json={"amount": "1000000.00", "paid_on": "2026-03-11"},
        headers=world.headers("enterprise"),
    )
    assert too_much.status_code == 422 and too_much.json()["error"]["code"] == "payments_exceed_contract"
    registered = _ok(
        client.post(
            f"{P}/contracts/{cid}/registration",
            json={"registered_amount": "1000000.00", "registered_on": "2026-03-15"},
            headers=world.headers("registrar"),
        )
    )
    assert (
        registered["status"] == "registered"
        and registered["registration"]["registrar_org_id"] == world.org["registry"]
    )
    twice = client.post(
        f"{P}/contracts/{cid}/registration",
        json={"registered_amount": "1.00", "registered_on": "2026-03-16"},
        headers=world.headers("registrar"),
    )
    assert twice.status_code == 409

    by_field = _ok(
        client.get(
            f"{P}/stats/turnover",
            params={"group_by": "field", "year": 2026},
            headers=world.headers("registrar"),
        )
    )
    assert [(r["key"], Decimal(r["contract_amount"]), Decimal(r["registered_amount"])) for r in by_field] == [
        ("F02", Decimal("1200000.00"), Decimal("1000000.00"))
    ]
    funnel = _ok(client.get(f"{P}/stats/funnel", headers=world.headers("admin")))
    assert [s["count"] for s in funnel["stages"]] == [1, 1, 1, 1]
    totals = _ok(client.get(f"{P}/stats/totals", headers=world.headers("other_enterprise")))
    assert (totals["contracts"], Decimal(totals["paid_amount"])) == (1, Decimal("200000.10"))
    board = _ok(client.get(f"{P}/contracts/recent", headers=world.headers("other_enterprise")))
    assert board[0]["title"] == "滚刀材料技术许可"
    mine = _ok(client.get(f"{P}/contracts", headers=world.headers("other_enterprise")))
    assert mine["total"] == 0  # another organisation sees none of it in the ledger

    cancelled = _ok(
        client.post(
            f"{P}/contracts/{cid}/cancel", json={"reason": "双方协商解除"}, headers=world.headers("broker")
        )
    )
    assert cancelled["status"] == "cancelled"
    assert (
        _ok(client.get(f"{P}/stats/turnover", params={"group_by": "field"}, headers=world.headers("admin")))
        == []
    )


def test_exports_as_csv_and_excel(client: TestClient, world: World) -> None:
    _, _, match = _matched_pair(client, world)
    client.post(f"{P}/matches/{match['id']}/decision", json={"accept": True}, headers=world.headers("broker"))
    client.post(
        f"{P}/contracts",
        json={
            "contract_number": "HT-X",
            "contract_type": "技术转让",
            "title": "转让",
            "match_id": match["id"],
            "contract_amount": "1234.56",
            "tech_transaction_amount": "1000.00",
            "signed_on": "2026-05-01",
        },
        headers=world.headers("broker"),
    )
    r = client.get(
        f"{P}/exports/turnover", params={"group_by": "contract_type"}, headers=world.headers("registrar")
    )
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert r.content.startswith("\ufeff".encode())
    rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert [(x["key"], x["contract_amount"]) for x in rows] == [("技术转让", "1234.56")]
    x = client.get(f"{P}/exports/contracts", params={"format": "xlsx"}, headers=world.headers("admin"))
    assert x.status_code == 200 and "attachment" in x.headers["content-disposition"]
    sheet = load_workbook(io.BytesIO(x.content)).active
    assert sheet is not None and sheet.max_row == 2
    refused = client.get(f"{P}/exports/contracts", headers=world.headers("registrar"))
    assert refused.status_code == 403  # ledger tables are for admins only
    no_year = client.get(f"{P}/exports/subsidies", headers=world.headers("admin"))
    assert no_year.status_code == 422 and no_year.json()["error"]["code"] == "year_required"
    report = client.get(f"{P}/exports/annual-report", params={"year": 2026}, headers=world.headers("admin"))
    assert report.status_code == 200 and len(load_workbook(io.BytesIO(report.content)).sheetnames) > 5


def test_reindex_runs_in_the_background_with_progress(client: TestClient, world: World) -> None:
    for i in range(5):
        client.post(
            f"{P}/needs",
            json={"title": f"需求{i}", "description": "内容", "field_code": "F02"},
            headers=world.headers("enterprise"),
        )
    job = _ok(client.post(f"{P}/admin/reindex", headers=world.headers("admin")), 202)
    assert job["kind"] == "reindex"
    deadline = time.monotonic() + 30
    while job["status"] in ("queued", "running") and time.monotonic() < deadline:
        time.sleep(0.05)
        job = _ok(client.get(f"{P}/admin/jobs/{job['id']}", headers=world.headers("admin")))
    assert (job["status"], job["done"], job["total"]) == ("done", 5, 5)
    assert _ok(client.get(f"{P}/health"))["indexed_needs"] == 5
    missing = client.get(f"{P}/admin/jobs/nope", headers=world.headers("admin"))
    assert missing.status_code == 404
