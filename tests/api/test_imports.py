"""Bulk import of postings: JSONL and CSV, per-line errors, duplicates skipped, Idempotency-Key replay."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient
from sqlmodel import Session, func, select

from models import Achievement, ImportRecord, Need
from tests.api.conftest import World

P = "/api/v1"


def _jsonl(*rows: object) -> bytes:
    return "\n".join(
        json.dumps(r, ensure_ascii=False) if not isinstance(r, str) else r for r in rows
    ).encode()


ROWS = (
    {
        "external_id": "N1",
        "title": "盾构机刀盘磨损快",
        "description": "刀盘磨损严重，换刀频繁。",
        "field_code": "F02",
    },
    {
        "external_id": "N2",
        "title": "小麦赤霉病防控",
        "description": "需要抗病新品种。",
        "field_code": "F11",
        "budget_max": "-5",
    },
    "{broken json",
    {"external_id": "N3", "title": "锂电池低温性能差", "description": "容量衰减。", "field_code": "F99"},
    {
        "external_id": "N4",
        "title": "<b>污水处理</b>",
        "description": "高盐废水。",
        "field_code": "F05",
        "modes": ["转让"],
    },
    {
        "external_id": "N1",
        "title": "盾构机刀盘磨损快（重复行）",
        "description": "同一外部编号。",
        "field_code": "F02",
    },
)


def _count(world: World, model: type[Need] | type[Achievement]) -> int:
    with Session(world.engine) as s:
        return int(s.exec(select(func.count()).select_from(model)).one())


def test_jsonl_import_reports_every_line_and_skips_repeats(client: TestClient, world: World) -> None:
    h = {**world.headers("enterprise"), "Content-Type": "application/x-ndjson"}
    r = client.post(f"{P}/needs/import", content=_jsonl(*ROWS), headers=h)
    assert r.status_code == 200, r.json()
    result = r.json()
    assert (result["received"], result["created"], result["invalid"], result["skipped_duplicate"]) == (
        6,
        2,
        3,
        1,
    )
    by_line = {row["line"]: row for row in result["rows"]}
    assert by_line[1]["status"] == "created" and by_line[5]["status"] == "created"
    assert by_line[2]["code"] == "validation_error" and "budget_max" in by_line[2]["message"]
    assert by_line[3]["code"] == "unreadable_row"
    assert by_line[4]["code"] == "unknown_field_code"
    assert by_line[6]["status"] == "skipped_duplicate" and by_line[6]["external_id"] == "N1"
    assert _count(world, Need) == 2
    assert world.index.counts()["need"] == 2  # each stored row went through the create service and the index

    again = client.post(f"{P}/needs/import", content=_jsonl(*ROWS), headers=h).json()
    assert (again["created"], again["skipped_duplicate"], again["invalid"]) == (0, 3, 3)
    assert _count(world, Need) == 2


def test_idempotency_key_replays_the_stored_result(client: TestClient, world: World) -> None:
    h = {
        **world.headers("enterprise"),
        "Content-Type": "application/x-ndjson",
        "Idempotency-Key": "batch-2026-03-01",
    }
    first = client.post(f"{P}/needs/import", content=_jsonl(*ROWS[:2]), headers=h).json()
    assert first["created"] == 1 and first["replayed"] is False
    replay = client.post(f"{P}/needs/import", content=_jsonl(*ROWS[:2]), headers=h).json()
    assert replay == {**first, "replayed": True}
    assert _count(world, Need) == 1
    other_org = client.post(
        f"{P}/needs/import", content=_jsonl(ROWS[0]), headers={**h, **world.headers("other_enterprise")}
    ).json()
    assert other_org["created"] == 1 and other_org["replayed"] is False  # keys are per organisation
    with Session(world.engine) as s:
        assert len(s.exec(select(ImportRecord)).all()) == 2


def test_csv_import_of_achievements(client: TestClient, world: World) -> None:
    csv_text = (
        "external_id,title,abstract,field_code,asking_price,modes,keywords\n"
        'A1,高耐磨硬质合金滚刀材料,"耐磨性提高一倍，\n换刀次数减少。",F02,800000.00,转让;许可,滚刀、硬质合金\n'
        "A2,抗赤霉病小麦新品种,产量稳定。,F11,12.345,转让,\n"
        "A3,,缺标题,F11,,,\n"
        "A4,宽温域电解液,零下三十度保持八成容量。,F06,,许可,\n"
    )
    h = {**world.headers("institution"), "Content-Type": "text/csv; charset=utf-8"}
    result = client.post(f"{P}/achievements/import", content=("\ufeff" + csv_text).encode(), headers=h).json()
    statuses = {row["external_id"]: (row["line"], row["status"]) for row in result["rows"]}
    assert statuses == {
        "A1": (3, "created"),
        "A2": (4, "invalid"),
        "A3": (5, "invalid"),
        "A4": (6, "created"),
    }
    listed = client.get(f"{P}/achievements", params={"sort": "id"}, headers=h).json()["items"]
    assert listed[0]["modes"] == ["转让", "许可"] and listed[0]["keywords"] == ["滚刀", "硬质合金"]
    assert listed[0]["asking_price"] == "800000.00" and "\n" in listed[0]["abstract"]


def test_format_detection_and_refusals(client: TestClient, world: World) -> None:
    h = world.headers("enterprise")
    r = client.post(
        f"{P}/needs/import", content=_jsonl(ROWS[0]), headers={**h, "Content-Type": "application/pdf"}
    )
    assert r.status_code == 415 and r.json()["error"]["code"] == "unsupported_media_type"
    r = client.post(
        f"{P}/needs/import?format=jsonl", content=_jsonl(ROWS[0]), headers={**h, "Content-Type": "text/plain"}
    )
    assert r.status_code == 200 and r.json()["created"] == 1
    bad_utf8 = client.post(
        f"{P}/needs/import?format=csv", content=b"title,description\n\xff\xfe,x\n", headers=h
    )
    assert bad_utf8.status_code == 422 and bad_utf8.json()["error"]["code"] == "invalid_encoding"
    line = client.post(
        f"{P}/needs/import?format=jsonl", content=b'{"title": "\xff"}\n' + _jsonl(ROWS[4]), headers=h
    ).json()
    assert [(x["line"], x["status"]) for x in line["rows"]] == [(1, "invalid"), (2, "created")]
    empty = client.post(f"{P}/needs/import?format=csv", content=b"", headers=h).json()
    assert empty["received"] == 0


def test_admin_imports_for_a_named_organisation(client: TestClient, world: World) -> None:
    h = {**world.headers("admin"), "Content-Type": "application/x-ndjson"}
    missing = client.post(f"{P}/needs/import", content=_jsonl(ROWS[0]), headers=h)
    assert missing.status_code == 422 and missing.json()["error"]["code"] == "org_required"
    ok = client.post(
        f"{P}/needs/import", params={"org_id": world.org["ent_b"]}, content=_jsonl(ROWS[0]), headers=h
    )
    assert ok.json()["created"] == 1
    need = client.get(f"{P}/needs", headers=h).json()["items"][0]
    assert need["org_id"] == world.org["ent_b"]
