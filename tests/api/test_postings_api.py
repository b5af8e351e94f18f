"""Needs and achievements over HTTP: create, read, change, withdraw, list, and live suggestions both
ways; on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.api.conftest import World

P = "/api/v1"

NEEDS = [
    ("盾构机刀盘磨损快", "盾构施工中刀盘和滚刀磨损严重，换刀频繁，影响掘进效率。", "F02"),
    ("小麦赤霉病防控", "需要抗赤霉病的小麦新品种或者绿色防控技术。", "F11"),
    ("锂电池低温性能差", "冬季储能电池容量衰减明显，需要低温电解液。", "F06"),
]
ACHIEVEMENTS = [
    (
        "高耐磨硬质合金滚刀材料",
        "用于盾构滚刀的硬质合金材料，耐磨性提高一倍，盾构刀盘换刀次数减少。",
        "F02",
        "800000.00",
    ),
    ("抗赤霉病小麦新品种", "选育出高抗赤霉病的小麦品种，产量稳定，适合黄淮麦区推广。", "F11", "200000.00"),
    (
        "宽温域锂离子电池电解液",
        "新型电解液在零下三十度仍保持百分之八十容量，适用于储能电池。",
        "F06",
        "500000.00",
    ),
]


def _post_all(client: TestClient, world: World) -> tuple[list[int], list[int]]:
    needs = [
        client.post(
            f"{P}/needs",
            json={"title": t, "description": d, "field_code": f},
            headers=world.headers("enterprise"),
        )
        for t, d, f in NEEDS
    ]
    achievements = [
        client.post(
            f"{P}/achievements",
            json={
                "title": t,
                "abstract": a,
                "field_code": f,
                "asking_price": price,
                "modes": ["转让", "许可"],
            },
            headers=world.headers("institution"),
        )
        for t, a, f, price in ACHIEVEMENTS
    ]
    assert all(r.status_code == 201 for r in needs + achievements)
    return [r.json()["id"] for r in needs], [r.json()["id"] for r in achievements]


def test_create_read_update_withdraw(client: TestClient, world: World) -> None:
    owner = world.headers("enterprise")
    created = client.post(
        f"{P}/needs",
        json={
            "title": "寻求滚刀材料",
            "description": "耐磨",
            "field_code": "F02.01",
            "budget_min": "100",
            "budget_max": "2000.5",
        },
        headers=owner,
    )
    assert created.status_code == 201
    need = created.json()
    assert need["org_id"] == world.org["ent_a"] and need["region_code"] == "410100"
    assert (need["budget_min"], need["budget_max"]) == ("100.00", "2000.50")  # money as exact decimal strings
    assert client.get(f"{P}/needs/{need['id']}", headers=owner).json() == need

    patched = client.patch(
        f"{P}/needs/{need['id']}", json={"title": "寻求高耐磨滚刀材料", "keywords": ["滚刀"]}, headers=owner
    )
    assert patched.status_code == 200
    assert patched.json()["title"] == "寻求高耐磨滚刀材料" and patched.json()["keywords"] == ["滚刀"]
    assert patched.json()["budget_max"] == "2000.50"  # untouched fields stay

    withdrawn = client.post(f"{P}/needs/{need['id']}/withdraw", headers=owner)
    assert withdrawn.status_code == 200 and withdrawn.json()["status"] == "withdrawn"
    again = client.post(f"{P}/needs/{need['id']}/withdraw", headers=owner)
    assert again.status_code == 409 and again.json()["error"]["code"] == "invalid_transition"
    late = client.patch(f"{P}/needs/{need['id']}", json={"title": "改"}, headers=owner)
    assert late.status_code == 409
    missing = client.get(f"{P}/needs/999999", headers=owner)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"


def test_list_filters_sorting_and_paging(client: TestClient, world: World) -> None:
    _post_all(client, world)
    h = world.headers("other_enterprise")

    def titles(**params: Any) -> list[str]:
        r = client.get(f"{P}/needs", params=params, headers=h)
        assert r.status_code == 200, r.json()
        return [i["title"] for i in r.json()["items"]]

    assert titles(sort="title") == sorted(t for t, _, _ in NEEDS)
    assert titles(sort="-id") == [t for t, _, _ in reversed(NEEDS)]
    assert titles(field_code="F11") == ["小麦赤霉病防控"]
    assert titles(q="电池") == ["锂电池低温性能差"]
    assert titles(status="withdrawn") == []
    page = client.get(f"{P}/needs", params={"sort": "id", "offset": 1, "limit": 1}, headers=h).json()
    assert (page["total"], page["offset"], page["limit"], [i["title"] for i in page["items"]]) == (
        3,
        1,
        1,
        [NEEDS[1][0]],
    )
    assert client.get(f"{P}/needs", params={"sort": "password"}, headers=h).status_code == 422
    assert client.get(f"{P}/needs", params={"limit": 10_000}, headers=h).status_code == 422
    bad_field = client.get(
        f"{P}/needs/1/suggestions", params={"field_code": "F99"}, headers=world.headers("admin")
    )
    assert bad_field.status_code == 422 and bad_field.json()["error"]["code"] == "unknown_field_code"


def test_confidential_fields_are_masked_for_other_organisations(client: TestClient, world: World) -> None:
    body = {
        "title": "保密需求",
        "description": "内部工艺参数",
        "field_code": "F02",
        "budget_max": "99.00",
        "visibility": "confidential",
    }
    need_id = client.post(f"{P}/needs", json=body, headers=world.headers("enterprise")).json()["id"]
    for role, visible in (
        ("enterprise", True),
        ("admin", True),
        ("other_enterprise", False),
        ("institution", False),
    ):
        got = client.get(f"{P}/needs/{need_id}", headers=world.headers(role)).json()
        assert got["title"] == "保密需求"
        assert (got["description"], got["budget_max"]) == (
            ("内部工艺参数", "99.00") if visible else (None, None)
        ), role
        listed = client.get(f"{P}/needs", headers=world.headers(role)).json()["items"][0]
        assert (listed["description"] is not None) == visible


def test_suggestions_both_directions_follow_the_index(client: TestClient, world: World) -> None:
    need_ids, ach_ids = _post_all(client, world)
    h = world.headers("enterprise")
    for need_id, ach_id in zip(need_ids, ach_ids, strict=True):
        r = client.get(f"{P}/needs/{need_id}/suggestions", params={"k": 3}, headers=h)
        assert r.status_code == 200
        top = r.json()[0]
        assert top["posting"]["id"] == ach_id and top["rank"] == 1
        assert {"dense", "lexical"} <= set(top["components"]) and "shared_terms" in top["explanation"]
    back = client.get(
        f"{P}/achievements/{ach_ids[0]}/suggestions", headers=world.headers("institution")
    ).json()
    assert back[0]["posting"]["id"] == need_ids[0]

    def found(**params: Any) -> list[int]:
        r = client.get(f"{P}/needs/{need_ids[0]}/suggestions", params={"k": 3, **params}, headers=h)
        assert r.status_code == 200, r.json()
        return [s["posting"]["id"] for s in r.json()]

    assert found(field_code="F11") == [ach_ids[1]]
    assert ach_ids[0] not in found(max_price="500000")  # asks 800k
    assert found(modes=["作价入股"]) == []  # every achievement offers 转让/许可 only
    client.post(f"{P}/achievements/{ach_ids[0]}/withdraw", headers=world.headers("institution"))
    assert ach_ids[0] not in found()
    client.patch(
        f"{P}/achievements/{ach_ids[2]}",
        json={"title": "盾构机刀盘滚刀耐磨涂层", "field_code": "F02"},
        headers=world.headers("institution"),
    )
    assert found(field_code="F02") == [ach_ids[2]]  # the change is in the index before the call returns


def test_html_in_titles_is_stored_and_returned_inertly(client: TestClient, world: World) -> None:
    title = '<script>alert("x")</script><img src=x onerror=alert(1)>滚刀'
    r = client.post(
        f"{P}/needs",
        json={"title": title, "description": "<b>粗体</b>", "field_code": "F02"},
        headers=world.headers("enterprise"),
    )
    assert r.status_code == 201 and r.headers["content-type"].startswith("application/json")
    got = client.get(f"{P}/needs/{r.json()['id']}", headers=world.headers("other_enterprise")).json()
    assert got["title"] == title and got["description"] == "<b>粗体</b>"
