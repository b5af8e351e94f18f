"""Issue 19's input rules: literal `q=` (D8), one-line visible titles, BOM-tolerant JSONL import and
ASCII-only money (D10)."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import World
from tests.api.factory import Factory

P = "/api/v1"


def test_q_is_literal_text_not_a_like_pattern(client: TestClient, world: World) -> None:
    f = Factory(world)
    f.need(title="盾构机刀盘磨损快")
    pct = f.need(title="转化率提升50%_方案")
    h = world.headers("enterprise")
    for q, expected in (("%", [pct]), ("_", [pct]), ("50%_", [pct]), ("盾构", None), ("%盾构%", [])):
        got = client.get(f"{P}/needs", params={"q": q}, headers=h).json()["items"]
        ids = [n["id"] for n in got]
        if expected is None:
            assert ids and pct not in ids, q
        else:
            assert ids == expected, q


@pytest.mark.parametrize(
    "title",
    ["两行\n标题", "回车\r标题", "反向\u202e题标", "零宽\u200b字符", "隔离\u2066符号\u2069", "BOM\ufeff标题"],
)
def test_titles_refuse_line_breaks_bidi_controls_and_invisible_characters(
    client: TestClient, world: World, title: str
) -> None:
    r = client.post(
        f"{P}/needs",
        json={"title": title, "description": "正文可以\n换行。", "field_code": "F02"},
        headers=world.headers("enterprise"),
    )
    assert r.status_code == 422 and r.json()["error"]["code"] == "validation_error", r.text
    ok = client.post(
        f"{P}/needs",
        json={"title": "正常标题", "description": "正文可以\n换行。", "field_code": "F02"},
        headers=world.headers("enterprise"),
    )
    assert ok.status_code == 201


@pytest.mark.parametrize("amount", ["１００", "1e3", "١٠٠", " 100", "100.", "+5", "0x10"])
def test_money_is_ascii_digits_only(client: TestClient, world: World, amount: str) -> None:
    r = client.post(
        f"{P}/needs",
        json={"title": "预算测试", "description": "正文。", "field_code": "F02", "budget_max": amount},
        headers=world.headers("enterprise"),
    )
    assert r.status_code == 422, (amount, r.text)
    achievement = Factory(world).achievement()
    q = client.get(
        f"{P}/achievements/{achievement}/suggestions",
        params={"min_budget": amount},
        headers=world.headers("institution"),
    )
    assert q.status_code == 422, (amount, q.text)


def test_jsonl_import_accepts_a_utf8_bom_like_csv(client: TestClient, world: World) -> None:
    row = {"external_id": "B1", "title": "带BOM的导入", "description": "第一行前有BOM。", "field_code": "F02"}
    payload = b"\xef\xbb\xbf" + json.dumps(row, ensure_ascii=False).encode()
    r = client.post(
        f"{P}/needs/import?format=jsonl",
        content=payload,
        headers={**world.headers("enterprise"), "Content-Type": "application/x-ndjson"},
    )
    assert r.status_code == 200, r.text
    assert r.json()["created"] == 1 and r.json()["invalid"] == 0


@pytest.mark.parametrize("start", ["0", "1700000000", "2026-1-5", "２０２６-01-05"])
def test_dates_are_iso_text(client: TestClient, world: World, start: str) -> None:
    """D11: `?start=0` was read as 1970-01-01; a date is YYYY-MM-DD and nothing else."""
    r = client.get(f"{P}/stats/turnover", params={"start": start}, headers=world.headers("admin"))
    assert r.status_code == 422 and r.json()["error"]["code"] == "validation_error", r.text
    ok = client.get(f"{P}/stats/turnover", params={"start": "2026-01-05"}, headers=world.headers("admin"))
    assert ok.status_code == 200


def test_405_states_the_allowed_methods(client: TestClient) -> None:
    """D11: HTTP requires `Allow` on 405 (TRACE and friends)."""
    for method in ("TRACE", "DELETE", "PUT"):
        r = client.request(method, f"{P}/health")
        assert r.status_code == 405 and "GET" in r.headers.get("allow", ""), (method, r.headers)
