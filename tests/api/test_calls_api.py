"""揭榜挂帅 over HTTP on SQLite and PostgreSQL: a call with two milestones is published, two institutions
apply, a third applies after the deadline and is refused, one is awarded, milestone 1 is accepted with a
payment, and the subsidy rule M1 pays 30% of it (capped at ¥5M in a second case); the contract and the
payment count in the turnover statistics. Plus 赛马制, 揭榜转化, eligibility, visibility of applications,
solver recommendation with invitations, and scenes with their pilot subsidy (M4)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import Session

from models import Call, Organization, OrgKind
from services.targets import load_reference_targets_and_rules
from tests.api.conftest import World, make_uscc
from tests.api.factory import serial

P = "/api/v1"
D = Decimal


def _ok(r: Any, status: int = 200) -> Any:
    assert r.status_code == status, r.json()
    return r.json()


def _error(r: Any, status: int, code: str) -> None:
    assert r.status_code == status, r.json()
    assert r.json()["error"]["code"] == code, r.json()


def _org(world: World, kind: OrgKind, name: str) -> int:
    with Session(world.engine) as s:
        org = Organization(name=name, kind=kind, uscc=make_uscc(500 + serial()), region_code="410100")
        s.add(org)
        s.commit()
        return org.id or 0


def _call_body(form: str = "揭榜攻关", *, budget: str = "2000000.00", **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "form": form,
        "need": {
            "title": f"盾构机刀盘滚刀高耐磨材料攻关 {serial()}",
            "description": "盾构施工中刀盘和滚刀磨损严重，换刀频繁，需要高耐磨硬质合金滚刀材料。",
            "field_code": "F02",
        },
        "indicators": [{"name": "滚刀寿命", "target": "≥ 2 倍", "unit": ""}],
        "budget": budget,
        "application_deadline": (datetime.now(UTC) + timedelta(days=30)).isoformat(),
        "delivery_months": 18,
        "milestones": [
            {
                "deliverable": "样刀",
                "acceptance_criterion": "台架试验寿命达标",
                "payment_share": "0.4",
                "due_months": 6,
            },
            {
                "deliverable": "工程应用",
                "acceptance_criterion": "连续掘进 1 公里",
                "payment_share": "0.6",
                "due_months": 18,
            },
        ],
    }
    body.update(extra)
    return body


def _application(price: str) -> dict[str, Any]:
    return {
        "proposal": "采用梯度硬质合金与激光熔覆复合工艺。",
        "team": [{"name": "张教授", "title": "教授", "role": "负责人"}],
        "price": price,
        "schedule": "6 个月样刀，18 个月工程应用。",
    }


def _expire(world: World, call_id: int) -> None:
    with Session(world.engine) as s:
        call = s.get(Call, call_id)
        assert call is not None
        call.application_deadline = datetime.now(UTC) - timedelta(minutes=1)
        s.add(call)
        s.commit()


def _published(
    client: TestClient, world: World, body: dict[str, Any], owner: str = "enterprise"
) -> dict[str, Any]:
    call = _ok(client.post(f"{P}/calls", json=body, headers=world.headers(owner)), 201)
    assert call["status"] == "draft"
    published: dict[str, Any] = _ok(
        client.post(f"{P}/calls/{call['id']}/publish", headers=world.headers(owner))
    )
    return published


def _m1(client: TestClient, world: World, call_id: int, year: int = 2026) -> list[dict[str, Any]]:
    rows = _ok(client.get(f"{P}/subsidies", params={"year": year}, headers=world.headers("admin")))
    return [r for r in rows if r["rule_code"] == "M1" and r["call_id"] == call_id]


def test_open_call_end_to_end(client: TestClient, world: World) -> None:
    load_reference_targets_and_rules(world.engine)
    ent, inst, admin = (world.headers(r) for r in ("enterprise", "institution", "admin"))
    institute = _org(world, OrgKind.INSTITUTE, "河南省某研究院")
    late = _org(world, OrgKind.UNIVERSITY, "迟到大学")
    member = _org(world, OrgKind.ENTERPRISE, "联合体成员企业")
    body = _call_body(eligibility={"org_kinds": ["university", "institute"], "consortium": True})
    call = _published(client, world, body)
    assert call["status"] == "published" and [m["seq"] for m in call["milestones"]] == [1, 2]
    cid = call["id"]
    assert cid in [
        c["id"] for c in _ok(client.get(f"{P}/calls", params={"open_only": True}, headers=inst))["items"]
    ]

    mine = _ok(
        client.post(f"{P}/calls/{cid}/applications", json=_application("1500000.00"), headers=inst), 201
    )
    theirs = _ok(
        client.post(
            f"{P}/calls/{cid}/applications",
            json={**_application("1800000.00"), "member_org_ids": [member]},
            params={"org_id": institute},
            headers=admin,
        ),
        201,
    )
    assert theirs["member_names"] == ["联合体成员企业"]
    _error(
        client.post(f"{P}/calls/{cid}/applications", json=_application("1.00"), headers=inst),
        409,
        "already_applied",
    )
    _error(
        client.post(
            f"{P}/calls/{cid}/applications",
            json=_application("1.00"),
            headers=world.headers("other_enterprise"),
        ),
        403,
        "not_eligible",
    )
    # an applicant sees only its own; the owner and admins see all; others nothing
    assert [a["id"] for a in _ok(client.get(f"{P}/calls/{cid}/applications", headers=inst))] == [mine["id"]]
    assert len(_ok(client.get(f"{P}/calls/{cid}/applications", headers=ent))) == 2
    assert _ok(client.get(f"{P}/calls/{cid}/applications", headers=world.headers("other_enterprise"))) == []

    _error(
        client.post(
            f"{P}/calls/{cid}/award",
            json={"application_ids": [mine["id"]], "signed_on": "2026-03-01"},
            headers=ent,
        ),
        409,
        "applications_still_open",
    )
    _expire(world, cid)
    _error(
        client.post(
            f"{P}/calls/{cid}/applications",
            json=_application("1000000.00"),
            params={"org_id": late},
            headers=admin,
        ),
        409,
        "application_deadline_passed",
    )
    awarded = _ok(
        client.post(
            f"{P}/calls/{cid}/award",
            json={"application_ids": [mine["id"]], "signed_on": "2026-03-01"},
            headers=ent,
        )
    )
    assert awarded["status"] == "awarded" and len(awarded["contract_ids"]) == 1
    contract = _ok(client.get(f"{P}/contracts/{awarded['contract_ids'][0]}", headers=ent))
    assert contract["contract_type"] == "技术开发" and contract["is_open_call"] is True
    assert (contract["buyer_org_id"], contract["seller_org_id"]) == (world.org["ent_a"], world.org["uni"])
    statuses = {a["id"]: a["status"] for a in _ok(client.get(f"{P}/calls/{cid}/applications", headers=ent))}
    assert statuses == {mine["id"]: "awarded", theirs["id"]: "not_awarded"}

    _error(
        client.post(f"{P}/calls/{cid}/milestones/2/accept", json={"paid_on": "2026-04-01"}, headers=ent),
        409,
        "milestone_out_of_order",
    )
    _error(
        client.post(f"{P}/calls/{cid}/milestones/1/accept", json={"paid_on": "2026-04-01"}, headers=inst),
        403,
        "forbidden",
    )
    accepted = _ok(
        client.post(f"{P}/calls/{cid}/milestones/1/accept", json={"paid_on": "2026-04-01"}, headers=ent)
    )
    assert D(accepted["payment"]["amount"]) == D("600000.00") and accepted["call_status"] == "in_progress"
    _error(
        client.post(f"{P}/calls/{cid}/milestones/1/accept", json={"paid_on": "2026-04-02"}, headers=ent),
        409,
        "milestone_already_accepted",
    )

    [m1] = _m1(client, world, cid)
    assert (D(m1["base_amount"]), D(m1["subsidy"]), m1["capped"]) == (D("600000.00"), D("180000.00"), False)
    assert m1["beneficiary_org_id"] == world.org["ent_a"] and m1["contract_id"] == contract["id"]

    by_kind = _ok(
        client.get(f"{P}/stats/turnover", params={"group_by": "open_call", "year": 2026}, headers=admin)
    )
    assert [(r["key"], r["contracts"], D(r["contract_amount"])) for r in by_kind] == [
        ("open_call", 1, D("1500000.00"))
    ]
    totals = _ok(client.get(f"{P}/stats/totals", headers=admin))
    assert D(totals["paid_amount"]) == D("600000.00")
    summary = _ok(client.get(f"{P}/stats/calls", headers=admin))
    assert summary["by_status"]["in_progress"] == 1 and D(summary["paid_amount"]) == D("600000.00")
    assert D(summary["share_of_turnover"]) == D("100.00")

    done = _ok(
        client.post(f"{P}/calls/{cid}/milestones/2/accept", json={"paid_on": "2026-09-01"}, headers=ent)
    )
    assert done["call_status"] == "completed" and D(done["payment"]["amount"]) == D("900000.00")


def test_open_call_subsidy_is_capped_at_five_million(client: TestClient, world: World) -> None:
    load_reference_targets_and_rules(world.engine)
    ent = world.headers("enterprise")
    body = _call_body(budget="30000000.00")
    body["milestones"][0]["payment_share"] = "0.9"
    body["milestones"][1]["payment_share"] = "0.1"
    cid = _published(client, world, body)["id"]
    app = _ok(
        client.post(
            f"{P}/calls/{cid}/applications",
            json=_application("20000000.00"),
            headers=world.headers("institution"),
        ),
        201,
    )
    _expire(world, cid)
    _ok(
        client.post(
            f"{P}/calls/{cid}/award",
            json={"application_ids": [app["id"]], "signed_on": "2026-02-01"},
            headers=ent,
        )
    )
    paid = _ok(
        client.post(f"{P}/calls/{cid}/milestones/1/accept", json={"paid_on": "2026-05-01"}, headers=ent)
    )
    assert D(paid["payment"]["amount"]) == D("18000000.00")
    [m1] = _m1(client, world, cid)
    assert (D(m1["uncapped_amount"]), D(m1["subsidy"]), m1["capped"]) == (
        D("5400000.00"),
        D("5000000.00"),
        True,
    )
    # the cap is per project over its life: the last 10% paid next year earns nothing more
    _ok(client.post(f"{P}/calls/{cid}/milestones/2/accept", json={"paid_on": "2027-01-10"}, headers=ent))
    [next_year] = _m1(client, world, cid, 2027)
    assert D(next_year["subsidy"]) == D("0.00")


def test_horse_race_funds_several_teams_and_stops_those_failing_a_milestone(
    client: TestClient, world: World
) -> None:
    ent, admin = world.headers("enterprise"), world.headers("admin")
    institute = _org(world, OrgKind.INSTITUTE, "赛马研究院")
    cid = _published(client, world, _call_body("赛马制", max_teams=2))["id"]
    a = _ok(
        client.post(
            f"{P}/calls/{cid}/applications",
            json=_application("800000.00"),
            headers=world.headers("institution"),
        ),
        201,
    )
    b = _ok(
        client.post(
            f"{P}/calls/{cid}/applications",
            json=_application("900000.00"),
            params={"org_id": institute},
            headers=admin,
        ),
        201,
    )
    _expire(world, cid)
    awarded = _ok(
        client.post(
            f"{P}/calls/{cid}/award",
            json={"application_ids": [a["id"], b["id"]], "signed_on": "2026-03-01"},
            headers=ent,
        )
    )
    assert len(awarded["contract_ids"]) == 2
    _error(
        client.post(f"{P}/calls/{cid}/milestones/1/accept", json={"paid_on": "2026-04-01"}, headers=ent),
        422,
        "application_required",
    )
    failed = _ok(
        client.post(
            f"{P}/calls/{cid}/milestones/1/accept",
            json={"application_id": b["id"], "passed": False, "paid_on": "2026-04-01"},
            headers=ent,
        )
    )
    assert failed["payment"] is None and failed["call_status"] == "in_progress"
    _ok(
        client.post(
            f"{P}/calls/{cid}/milestones/1/accept",
            json={"application_id": a["id"], "paid_on": "2026-04-01"},
            headers=ent,
        )
    )
    _error(
        client.post(
            f"{P}/calls/{cid}/milestones/2/accept",
            json={"application_id": b["id"], "paid_on": "2026-05-01"},
            headers=ent,
        ),
        409,
        "invalid_transition",
    )
    done = _ok(
        client.post(f"{P}/calls/{cid}/milestones/2/accept", json={"paid_on": "2026-08-01"}, headers=ent)
    )
    assert done["call_status"] == "completed"
    assert {x["status"] for x in _ok(client.get(f"{P}/calls/{cid}/applications", headers=ent))} == {
        "awarded",
        "eliminated",
    }


def test_one_winner_unless_horse_race_and_drafts_stay_private(client: TestClient, world: World) -> None:
    ent = world.headers("enterprise")
    r = client.post(f"{P}/calls", json=_call_body(max_teams=2), headers=ent)
    assert r.status_code == 422
    bad_shares = _call_body()
    bad_shares["milestones"][0]["payment_share"] = "0.5"
    assert client.post(f"{P}/calls", json=bad_shares, headers=ent).status_code == 422
    draft = _ok(client.post(f"{P}/calls", json=_call_body(), headers=ent), 201)
    _error(client.get(f"{P}/calls/{draft['id']}", headers=world.headers("institution")), 404, "not_found")
    changed = _ok(client.patch(f"{P}/calls/{draft['id']}", json={"budget": "2500000.00"}, headers=ent))
    assert D(changed["budget"]) == D("2500000.00")
    _error(
        client.post(
            f"{P}/calls/{draft['id']}/applications",
            json=_application("1.00"),
            headers=world.headers("institution"),
        ),
        404,
        "not_found",
    )
    _ok(client.post(f"{P}/calls/{draft['id']}/publish", headers=ent))
    _error(
        client.patch(f"{P}/calls/{draft['id']}", json={"budget": "1.00"}, headers=ent),
        409,
        "call_not_editable",
    )
    secret = _call_body()
    secret["need"]["visibility"] = "confidential"
    _error(client.post(f"{P}/calls", json=secret, headers=ent), 422, "confidential_call")
    # a posting made confidential after its call was published: the call no longer shows its text
    need_id = changed["need_id"]
    _ok(client.patch(f"{P}/needs/{need_id}", json={"visibility": "confidential"}, headers=ent))
    shown = _ok(client.get(f"{P}/calls/{draft['id']}", headers=world.headers("institution")))
    assert (shown["summary"], shown["keywords"]) == ("", [])


def test_conversion_call_is_taken_up_by_an_enterprise(client: TestClient, world: World) -> None:
    inst, ent = world.headers("institution"), world.headers("enterprise")
    body = _call_body("揭榜转化")
    del body["need"]
    body["achievement"] = {
        "title": "高耐磨硬质合金滚刀材料",
        "abstract": "用于盾构滚刀的硬质合金，耐磨性提高一倍，已完成中试。",
        "field_code": "F02",
        "maturity": "中试",
    }
    cid = _published(client, world, body, owner="institution")["id"]
    _error(
        client.post(
            f"{P}/calls/{cid}/applications",
            json=_application("1.00"),
            params={"org_id": world.org["center"]},
            headers=world.headers("admin"),
        ),
        403,
        "not_eligible",
    )
    app = _ok(client.post(f"{P}/calls/{cid}/applications", json=_application("1200000.00"), headers=ent), 201)
    _expire(world, cid)
    awarded = _ok(
        client.post(
            f"{P}/calls/{cid}/award",
            json={"application_ids": [app["id"]], "signed_on": "2026-03-01"},
            headers=inst,
        )
    )
    contract = _ok(client.get(f"{P}/contracts/{awarded['contract_ids'][0]}", headers=ent))
    assert contract["contract_type"] == "技术转让"
    assert (contract["buyer_org_id"], contract["seller_org_id"]) == (world.org["ent_a"], world.org["uni"])


def test_solver_recommendation_ranks_organisations_with_their_achievements(
    client: TestClient, world: World
) -> None:
    inst, ent, admin = world.headers("institution"), world.headers("enterprise"), world.headers("admin")
    other = _org(world, OrgKind.INSTITUTE, "无关研究所")
    for title in ("高耐磨硬质合金滚刀材料", "盾构刀盘耐磨堆焊技术"):
        _ok(
            client.post(
                f"{P}/achievements",
                json={
                    "title": title,
                    "abstract": f"{title}，用于盾构刀盘滚刀，耐磨性提高一倍。",
                    "field_code": "F02",
                },
                headers=inst,
            ),
            201,
        )
    _ok(
        client.post(
            f"{P}/achievements",
            json={
                "title": "小麦抗旱品种选育",
                "abstract": "抗旱小麦新品种，亩产提高一成。",
                "field_code": "F11",
            },
            params={"org_id": other},
            headers=admin,
        ),
        201,
    )
    secret = {
        "title": "盾构滚刀保密工艺",
        "abstract": "盾构刀盘滚刀耐磨保密工艺。",
        "field_code": "F02",
        "visibility": "confidential",
    }
    _ok(client.post(f"{P}/achievements", json=secret, params={"org_id": other}, headers=admin), 201)
    cid = _published(client, world, _call_body())["id"]
    ranked = _ok(client.get(f"{P}/calls/{cid}/recommendations", headers=ent))
    assert ranked[0]["org_id"] == world.org["uni"] and len(ranked[0]["justification"]) == 2
    assert all(j["title"] != secret["title"] for r in ranked for j in r["justification"])
    assert all(r["org_id"] != world.org["ent_a"] for r in ranked)
    _error(client.get(f"{P}/calls/{cid}/recommendations", headers=inst), 403, "forbidden")
    _ok(client.post(f"{P}/calls/{cid}/invitations", json={"org_id": world.org["uni"]}, headers=ent), 201)
    _error(
        client.post(f"{P}/calls/{cid}/invitations", json={"org_id": world.org["uni"]}, headers=ent),
        409,
        "already_invited",
    )
    assert _ok(client.get(f"{P}/calls/{cid}/recommendations", headers=ent))[0]["invited"] is True


def test_scenes_solutions_matching_and_pilot_subsidy(client: TestClient, world: World) -> None:
    load_reference_targets_and_rules(world.engine)
    ent, inst, admin = world.headers("enterprise"), world.headers("institution"), world.headers("admin")
    scene = _ok(
        client.post(
            f"{P}/scenes",
            json={
                "title": "郑东新区智能网联公交车路协同示范场景",
                "description": "开放 3 条公交线路，征集车路协同辅助驾驶与网联化运营管理解决方案。",
                "field_code": "F07",
                "category": "智能交通",
            },
            headers=ent,
        ),
        201,
    )
    assert (scene["kind"], scene["category"]) == ("场景", "智能交通")
    _error(
        client.post(
            f"{P}/scenes/{scene['id']}/solutions",
            json={"title": "自家方案", "abstract": "内容", "field_code": "F07"},
            params={"org_id": world.org["ent_a"]},
            headers=admin,
        ),
        422,
        "own_scene",
    )
    solution = _ok(
        client.post(
            f"{P}/scenes/{scene['id']}/solutions",
            json={
                "title": "车路协同辅助驾驶方案",
                "abstract": "路侧感知与公交车路协同辅助驾驶，网联化运营管理平台。",
                "field_code": "F07",
            },
            headers=inst,
        ),
        201,
    )
    assert (solution["kind"], solution["category"]) == ("方案", "智能交通")
    assert [s["id"] for s in _ok(client.get(f"{P}/scenes/{scene['id']}/solutions", headers=ent))] == [
        solution["id"]
    ]
    listed = _ok(client.get(f"{P}/scenes", params={"category": "智能交通"}, headers=inst))
    assert [s["id"] for s in listed["items"]] == [scene["id"]]
    assert _ok(client.get(f"{P}/scenes", params={"category": "智慧农业"}, headers=inst))["total"] == 0
    recs = _ok(client.get(f"{P}/scenes/{scene['id']}/recommendations", params={"kind": "方案"}, headers=ent))
    assert recs[0]["posting"]["id"] == solution["id"] and recs[0]["explanation"]
    back = _ok(client.get(f"{P}/achievements/{solution['id']}/suggestions", headers=inst))
    assert back[0]["posting"]["id"] == scene["id"]
    _error(
        client.post(
            f"{P}/scenes/{scene['id']}/pilots",
            json={
                "provider_org_id": world.org["uni"],
                "title": "试点",
                "investment": "1.00",
                "signed_on": "2026-05-01",
            },
            headers=inst,
        ),
        403,
        "forbidden",
    )
    _ok(
        client.post(
            f"{P}/scenes/{scene['id']}/pilots",
            json={
                "provider_org_id": world.org["uni"],
                "solution_id": solution["id"],
                "title": "车路协同试点",
                "investment": "10000000.00",
                "signed_on": "2026-05-01",
            },
            headers=ent,
        ),
        201,
    )
    rows = _ok(client.get(f"{P}/subsidies", params={"year": 2026}, headers=admin))
    [m4] = [r for r in rows if r["rule_code"] == "M4"]
    assert (D(m4["base_amount"]), D(m4["subsidy"]), m4["beneficiary_org_id"]) == (
        D("10000000.00"),
        D("2000000.00"),
        world.org["ent_a"],
    )
    assert m4["pilot_agreement_id"] is not None and m4["contract_id"] is None
    summary = _ok(client.get(f"{P}/stats/calls", headers=admin))
    assert summary["scenes"]["by_category"] == {"智能交通": 1} and D(
        summary["scenes"]["pilot_investment"]
    ) == D("10000000.00")
