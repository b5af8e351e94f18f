"""Authorisation matrix: every API endpoint × every kind of caller gets exactly the intended status.

The table is keyed by (method, path template) and checked against `app.routes`: an endpoint without a
row (or a row without an endpoint) fails `test_every_endpoint_has_a_row`. Each cell builds its own
fresh objects (a new need to withdraw, a new contract to register…) so that one caller's success
cannot turn into another caller's 409.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from sqlmodel import Session

from api.app import create_app
from api.deps import API_PREFIX
from models import Call, MatchStatus
from models.call_schemas import ApplicationCreate, AwardRequest, CallCreate, SceneCreate
from services import calls, jobs, scenes
from services.config import Settings
from tests.api.conftest import PASSWORD, ROLES, World, make_uscc
from tests.api.factory import Factory, serial

P = API_PREFIX


@dataclass
class Req:
    path_args: dict[str, Any] = field(default_factory=dict)
    json: Any = None
    params: dict[str, Any] | None = None
    data: dict[str, str] | None = None
    content: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)


Build = Callable[[Factory, str], Req]


@dataclass
class Row:
    expect: dict[str, int]
    build: Build = lambda f, role: Req()


def allow(ok: int, *roles: str, denied: int = 403) -> dict[str, int]:
    """`ok` for the listed roles, `denied` for the other signed-in callers, 401 for anonymous."""
    return {r: 401 if r == "anonymous" else (ok if r in roles else denied) for r in ROLES}


def signed_in(ok: int = 200) -> dict[str, int]:
    return allow(ok, *[r for r in ROLES if r != "anonymous"])


def everyone(ok: int = 200) -> dict[str, int]:
    return dict.fromkeys(ROLES, ok)


def as_admin_for(org_key: str) -> Callable[[Factory, str], dict[str, Any] | None]:
    """Admins act for an organisation by naming it; everyone else acts for their own."""
    return lambda f, role: {"org_id": f.w.org[org_key]} if role == "admin" else None


ADMIN = ("admin",)
ENT_OWNER = ("enterprise", "admin")
INST_OWNER = ("institution", "admin")
MATCH_PARTIES = ("enterprise", "institution", "broker", "admin")
CONTRACT_PARTIES = ("enterprise", "institution", "broker", "admin")
STATS = ("registrar", "admin")


def _need_body(f: Factory, role: str) -> Req:
    body = {
        "title": f"寻求锂电池低温电解液 {serial()}",
        "description": "冬季储能电池容量衰减明显。",
        "field_code": "F06",
    }
    return Req(json=body, params=as_admin_for("ent_a")(f, role))


def _achievement_body(f: Factory, role: str) -> Req:
    body = {
        "title": f"宽温域锂电池电解液 {serial()}",
        "abstract": "零下三十度保持八成容量。",
        "field_code": "F06",
    }
    return Req(json=body, params=as_admin_for("uni")(f, role))


def _import(kind: str, org: str) -> Build:
    def build(f: Factory, role: str) -> Req:
        text = "description" if kind == "need" else "abstract"
        line = f'{{"title": "批量导入 {serial()}", "{text}": "内容", "field_code": "F02", "external_id": "x{serial()}"}}\n'
        return Req(
            content=line.encode(),
            headers={"Content-Type": "application/x-ndjson"},
            params=as_admin_for(org)(f, role),
        )

    return build


def _contract_body(f: Factory, role: str) -> Req:
    return Req(
        json={
            "contract_number": f"HT-M{serial():06d}",
            "contract_type": "技术转让",
            "title": "滚刀材料技术转让",
            "buyer_org_id": f.w.org["ent_a"],
            "seller_org_id": f.w.org["uni"],
            "field_code": "F02",
            "contract_amount": "1000.00",
            "tech_transaction_amount": "1000.00",
            "signed_on": "2026-03-01",
        }
    )


def _registration(f: Factory, role: str) -> Req:
    body: dict[str, Any] = {"registered_amount": "1000.00", "registered_on": "2026-03-05"}
    if role == "admin":
        body["registrar_org_id"] = f.w.org["registry"]
    return Req(path_args={"contract_id": f.contract()}, json=body)


def _job(f: Factory, role: str) -> Req:
    return Req(path_args={"job_id": str(jobs.submit(f.w.engine, f"test-{serial()}").id)})


def _matching_job(f: Factory, role: str) -> Req:
    return Req(json={"need_ids": [f.need()], "k": 3})


def _target_body(f: Factory, role: str) -> Req:
    return Req(
        json={
            "code": f"T{serial()}",
            "name": "测试目标",
            "scope": "center",
            "metric": "contract_turnover",
            "period_start": "2026-01-01",
            "period_end": "2026-12-31",
            "value": "1000000.00",
        }
    )


def _rule_body(f: Factory, role: str) -> Req:
    return Req(
        json={
            "code": f"R{serial()}",
            "name": "揭榜挂帅项目补助",
            "rate": "0.3",
            "base": "actual_payments",
            "cap": "5000000.00",
            "per": "project",
            "period": "project",
        }
    )


def _fresh_org(f: Factory) -> int:
    from sqlmodel import Session

    from models import Organization, OrgKind

    with Session(f.w.engine) as s:
        org = Organization(
            name=f"新机构{serial()}",
            kind=OrgKind.TT_AGENCY,
            uscc=make_uscc(5000 + serial()),
            region_code="410100",
        )
        s.add(org)
        s.commit()
        return org.id or 0


def _pending_membership(f: Factory) -> int:
    from sqlmodel import Session

    from models import Membership

    with Session(f.w.engine) as s:
        m = Membership(org_id=_fresh_org(f), applied_on=date(2026, 3, 1))
        s.add(m)
        s.commit()
        return m.id or 0


def _target(f: Factory) -> int:
    from models.schemas import TargetCreate
    from services import targets

    data = TargetCreate.model_validate(_target_body(f, "admin").json)
    return int(targets.create_target(f.w.engine, f.actor("admin"), data)["id"])


def _call_request(f: Factory, role: str) -> Req:
    body = {
        "form": "揭榜攻关",
        "need": {"title": f"滚刀材料攻关 {serial()}", "description": "滚刀磨损快。", "field_code": "F02"},
        "indicators": [{"name": "寿命", "target": "≥ 2 倍"}],
        "budget": "1000000.00",
        "application_deadline": (datetime.now(UTC) + timedelta(days=10)).isoformat(),
        "delivery_months": 12,
        "milestones": [
            {
                "deliverable": "样刀",
                "acceptance_criterion": "试验达标",
                "payment_share": "1",
                "due_months": 12,
            }
        ],
    }
    return Req(json=body, params=as_admin_for("ent_a")(f, role))


def _new_call(f: Factory, *, publish: bool = True) -> int:
    data = CallCreate.model_validate(_call_request(f, "enterprise").json)
    call = calls.create_call(f.w.engine, f.w.index, f.actor("enterprise"), data)
    if publish:
        calls.publish_call(f.w.engine, f.w.index, f.actor("enterprise"), call["id"])
    return int(call["id"])


_APPLICATION = {
    "proposal": "方案",
    "team": [{"name": "张三"}],
    "price": "800000.00",
    "schedule": "12 个月",
}


def _applied_call(f: Factory) -> tuple[int, int]:
    """A published call past its deadline with one application of the institution."""
    call_id = _new_call(f)
    data = ApplicationCreate.model_validate(_APPLICATION)
    application = calls.apply(f.w.engine, f.actor("institution"), call_id, data)
    with Session(f.w.engine) as s:
        call = s.get(Call, call_id)
        assert call is not None
        call.application_deadline = datetime.now(UTC) - timedelta(minutes=1)
        s.add(call)
        s.commit()
    return call_id, int(application["id"])


def _awarded_call(f: Factory) -> int:
    call_id, application_id = _applied_call(f)
    award = AwardRequest(application_ids=[application_id], signed_on=date(2026, 3, 1))
    calls.award(f.w.engine, f.actor("enterprise"), call_id, award)
    return call_id


def _scene(f: Factory) -> int:
    data = SceneCreate(
        title=f"智慧物流园区场景 {serial()}", description="开放园区。", field_code="F07", category="智能物流"
    )
    return int(scenes.create_scene(f.w.engine, f.w.index, f.actor("enterprise"), data)["id"])


def _solution_body(f: Factory, role: str) -> Req:
    body = {"title": f"园区无人配送方案 {serial()}", "abstract": "无人车配送。", "field_code": "F07"}
    return Req({"scene_id": _scene(f)}, json=body, params=as_admin_for("uni")(f, role))


MATRIX: dict[tuple[str, str], Row] = {
    ("GET", f"{P}/health"): Row(everyone()),
    ("POST", f"{P}/auth/token"): Row(
        everyone(), lambda f, r: Req(data={"username": "admin", "password": PASSWORD})
    ),
    ("GET", f"{P}/auth/me"): Row(signed_in()),
    # organisations, users, API keys
    ("POST", f"{P}/organizations"): Row(
        allow(201, *ADMIN),
        lambda f, r: Req(
            json={
                "name": f"新企业{serial()}",
                "kind": "enterprise",
                "uscc": make_uscc(1000 + serial()),
                "region_code": "410100",
            }
        ),
    ),
    ("GET", f"{P}/organizations"): Row(signed_in()),
    ("GET", f"{P}/organizations/{{org_id}}"): Row(
        signed_in(), lambda f, r: Req({"org_id": f.w.org["ent_a"]})
    ),
    ("POST", f"{P}/organizations/{{org_id}}/api-keys"): Row(
        allow(201, *ENT_OWNER), lambda f, r: Req({"org_id": f.w.org["ent_a"]}, json={"name": "erp"})
    ),
    ("GET", f"{P}/organizations/{{org_id}}/api-keys"): Row(
        allow(200, *ENT_OWNER), lambda f, r: Req({"org_id": f.w.org["ent_a"]})
    ),
    ("DELETE", f"{P}/organizations/{{org_id}}/api-keys/{{key_id}}"): Row(
        allow(200, *ENT_OWNER), lambda f, r: Req({"org_id": f.w.org["ent_a"], "key_id": f.api_key()[0]})
    ),
    ("POST", f"{P}/users"): Row(
        allow(201, *ADMIN),
        lambda f, r: Req(
            json={
                "username": f"user{serial()}",
                "display_name": "新用户",
                "role": "enterprise",
                "org_id": f.w.org["ent_a"],
                "password": "long enough password",
            }
        ),
    ),
    ("GET", f"{P}/users"): Row(allow(200, *ADMIN)),
    ("POST", f"{P}/brokers"): Row(
        allow(201, *ADMIN), lambda f, r: Req(json={"user_id": f.broker_user(), "field_codes": ["F02"]})
    ),
    ("GET", f"{P}/brokers"): Row(allow(200, *ADMIN)),
    # needs
    ("POST", f"{P}/needs"): Row(allow(201, "enterprise", "other_enterprise", "admin"), _need_body),
    ("GET", f"{P}/needs"): Row(signed_in()),
    ("POST", f"{P}/needs/import"): Row(
        allow(200, "enterprise", "other_enterprise", "admin"), _import("need", "ent_a")
    ),
    ("GET", f"{P}/needs/{{need_id}}"): Row(signed_in(), lambda f, r: Req({"need_id": f.need()})),
    ("PATCH", f"{P}/needs/{{need_id}}"): Row(
        allow(200, *ENT_OWNER), lambda f, r: Req({"need_id": f.need()}, json={"title": "新标题"})
    ),
    ("POST", f"{P}/needs/{{need_id}}/withdraw"): Row(
        allow(200, *ENT_OWNER), lambda f, r: Req({"need_id": f.need()})
    ),
    ("POST", f"{P}/needs/{{need_id}}/status"): Row(
        allow(200, *ENT_OWNER), lambda f, r: Req({"need_id": f.need()}, json={"status": "closed"})
    ),
    ("GET", f"{P}/needs/{{need_id}}/suggestions"): Row(
        allow(200, "enterprise", "broker", "admin"), lambda f, r: Req({"need_id": f.need()})
    ),
    # achievements
    ("POST", f"{P}/achievements"): Row(allow(201, *INST_OWNER), _achievement_body),
    ("GET", f"{P}/achievements"): Row(signed_in()),
    ("POST", f"{P}/achievements/import"): Row(allow(200, *INST_OWNER), _import("achievement", "uni")),
    ("GET", f"{P}/achievements/{{achievement_id}}"): Row(
        signed_in(), lambda f, r: Req({"achievement_id": f.achievement()})
    ),
    ("PATCH", f"{P}/achievements/{{achievement_id}}"): Row(
        allow(200, *INST_OWNER), lambda f, r: Req({"achievement_id": f.achievement()}, json={"trl": 5})
    ),
    ("POST", f"{P}/achievements/{{achievement_id}}/withdraw"): Row(
        allow(200, *INST_OWNER), lambda f, r: Req({"achievement_id": f.achievement()})
    ),
    ("POST", f"{P}/achievements/{{achievement_id}}/status"): Row(
        allow(200, *INST_OWNER),
        lambda f, r: Req({"achievement_id": f.achievement()}, json={"status": "closed"}),
    ),
    ("GET", f"{P}/achievements/{{achievement_id}}/suggestions"): Row(
        allow(200, "institution", "broker", "admin"), lambda f, r: Req({"achievement_id": f.achievement()})
    ),
    # broker review and negotiation
    ("GET", f"{P}/matches"): Row(allow(200, "broker", "admin")),
    ("GET", f"{P}/matches/{{match_id}}"): Row(
        allow(200, *MATCH_PARTIES), lambda f, r: Req({"match_id": f.match()})
    ),
    ("POST", f"{P}/matches/{{match_id}}/decision"): Row(
        allow(200, "broker", "admin"), lambda f, r: Req({"match_id": f.match()}, json={"accept": True})
    ),
    ("POST", f"{P}/matches/{{match_id}}/reassign"): Row(
        allow(200, *ADMIN), lambda f, r: Req({"match_id": f.match()}, json={"broker_id": f.w.broker_id})
    ),
    ("GET", f"{P}/matches/{{match_id}}/messages"): Row(
        allow(200, *MATCH_PARTIES), lambda f, r: Req({"match_id": f.match(MatchStatus.ACCEPTED)})
    ),
    ("POST", f"{P}/matches/{{match_id}}/messages"): Row(
        allow(201, *MATCH_PARTIES),
        lambda f, r: Req({"match_id": f.match(MatchStatus.ACCEPTED)}, json={"body": "您好"}),
    ),
    ("POST", f"{P}/matches/{{match_id}}/stage"): Row(
        allow(200, *MATCH_PARTIES),
        lambda f, r: Req({"match_id": f.match(MatchStatus.NEGOTIATING)}, json={"stage": "failed"}),
    ),
    ("POST", f"{P}/matching/run"): Row(
        allow(200, "broker", "admin"), lambda f, r: Req(json={"need_ids": [f.need()], "k": 3})
    ),
    ("POST", f"{P}/matching/assign"): Row(allow(200, *ADMIN)),
    # 揭榜挂帅 open calls
    ("POST", f"{P}/calls"): Row(allow(201, "enterprise", "other_enterprise", "admin"), _call_request),
    ("GET", f"{P}/calls"): Row(signed_in()),
    ("GET", f"{P}/calls/{{call_id}}"): Row(signed_in(), lambda f, r: Req({"call_id": _new_call(f)})),
    ("PATCH", f"{P}/calls/{{call_id}}"): Row(
        allow(200, *ENT_OWNER),
        lambda f, r: Req({"call_id": _new_call(f, publish=False)}, json={"delivery_months": 10}),
    ),
    ("POST", f"{P}/calls/{{call_id}}/publish"): Row(
        allow(200, *ENT_OWNER), lambda f, r: Req({"call_id": _new_call(f, publish=False)})
    ),
    ("POST", f"{P}/calls/{{call_id}}/applications"): Row(
        allow(201, "other_enterprise", "institution", "admin"),
        lambda f, r: Req({"call_id": _new_call(f)}, json=_APPLICATION, params=as_admin_for("uni")(f, r)),
    ),
    ("GET", f"{P}/calls/{{call_id}}/applications"): Row(
        signed_in(), lambda f, r: Req({"call_id": _applied_call(f)[0]})
    ),
    ("GET", f"{P}/calls/{{call_id}}/recommendations"): Row(
        allow(200, "enterprise", "broker", "admin"), lambda f, r: Req({"call_id": _new_call(f)})
    ),
    ("POST", f"{P}/calls/{{call_id}}/invitations"): Row(
        allow(201, *ENT_OWNER), lambda f, r: Req({"call_id": _new_call(f)}, json={"org_id": f.w.org["uni"]})
    ),
    ("POST", f"{P}/calls/{{call_id}}/award"): Row(
        allow(200, *ENT_OWNER),
        lambda f, r: (
            lambda c: Req({"call_id": c[0]}, json={"application_ids": [c[1]], "signed_on": "2026-03-01"})
        )(_applied_call(f)),
    ),
    ("POST", f"{P}/calls/{{call_id}}/milestones/{{seq}}/accept"): Row(
        allow(200, *ENT_OWNER),
        lambda f, r: Req({"call_id": _awarded_call(f), "seq": 1}, json={"paid_on": "2026-04-01"}),
    ),
    ("GET", f"{P}/stats/calls"): Row(allow(200, *STATS)),
    # 场景 scenes
    ("POST", f"{P}/scenes"): Row(
        allow(201, "enterprise", "other_enterprise", "admin"),
        lambda f, r: Req(
            json={
                "title": f"县域医院智慧医疗场景 {serial()}",
                "description": "开放影像科。",
                "field_code": "F10",
                "category": "智慧医疗",
            },
            params=as_admin_for("ent_a")(f, r),
        ),
    ),
    ("GET", f"{P}/scenes"): Row(signed_in()),
    ("POST", f"{P}/scenes/{{scene_id}}/solutions"): Row(
        {**allow(201, "institution", "other_enterprise", "admin"), "enterprise": 422}, _solution_body
    ),
    ("GET", f"{P}/scenes/{{scene_id}}/solutions"): Row(
        signed_in(), lambda f, r: Req({"scene_id": _scene(f)})
    ),
    ("GET", f"{P}/scenes/{{scene_id}}/recommendations"): Row(
        allow(200, "enterprise", "broker", "admin"), lambda f, r: Req({"scene_id": _scene(f)})
    ),
    ("POST", f"{P}/scenes/{{scene_id}}/pilots"): Row(
        allow(201, *ENT_OWNER),
        lambda f, r: Req(
            {"scene_id": _scene(f)},
            json={
                "provider_org_id": f.w.org["uni"],
                "title": "试点",
                "investment": "100000.00",
                "signed_on": "2026-05-01",
            },
        ),
    ),
    # contracts
    ("POST", f"{P}/contracts"): Row(allow(201, *CONTRACT_PARTIES), _contract_body),
    ("GET", f"{P}/contracts"): Row(signed_in()),
    ("GET", f"{P}/contracts/recent"): Row(everyone()),  # the public trading-hall board
    ("GET", f"{P}/contracts/{{contract_id}}"): Row(
        allow(200, *CONTRACT_PARTIES, "registrar"), lambda f, r: Req({"contract_id": f.contract()})
    ),
    ("POST", f"{P}/contracts/{{contract_id}}/payments"): Row(
        allow(201, *CONTRACT_PARTIES),
        lambda f, r: Req(
            {"contract_id": f.contract()}, json={"amount": "10.00", "paid_on": str(date(2026, 3, 2))}
        ),
    ),
    ("POST", f"{P}/contracts/{{contract_id}}/registration"): Row(
        allow(200, "registrar", "admin"), _registration
    ),
    ("POST", f"{P}/contracts/{{contract_id}}/cancel"): Row(
        allow(200, "broker", "admin"),
        lambda f, r: Req({"contract_id": f.contract()}, json={"reason": "双方协商解除"}),
    ),
    # statistics and targets
    ("GET", f"{P}/stats/turnover"): Row(allow(200, *STATS), lambda f, r: Req(params={"group_by": "field"})),
    ("GET", f"{P}/stats/funnel"): Row(allow(200, *STATS)),
    ("GET", f"{P}/stats/totals"): Row(signed_in()),
    ("GET", f"{P}/targets"): Row(allow(200, *STATS)),
    ("POST", f"{P}/targets"): Row(allow(201, *ADMIN), _target_body),
    ("PATCH", f"{P}/targets/{{target_id}}"): Row(
        allow(200, *ADMIN), lambda f, r: Req({"target_id": _target(f)}, json={"value": "2000000.00"})
    ),
    ("POST", f"{P}/targets/{{target_id}}/retire"): Row(
        allow(200, *ADMIN), lambda f, r: Req({"target_id": _target(f)})
    ),
    ("GET", f"{P}/scoreboard"): Row(allow(200, *STATS)),
    ("GET", f"{P}/scoreboard/export"): Row(allow(200, *STATS), lambda f, r: Req(params={"format": "xlsx"})),
    # registries behind the 1242 goals
    ("GET", f"{P}/registry/brokers"): Row(allow(200, *ADMIN)),
    ("PATCH", f"{P}/registry/brokers/{{broker_id}}"): Row(
        allow(200, *ADMIN),
        lambda f, r: Req(
            {"broker_id": f.w.broker_id},
            json={
                "certification_level": "中级",
                "certificate_number": f"JS-{serial()}",
                "certified_on": "2025-01-02",
            },
        ),
    ),
    ("POST", f"{P}/registry/brokers/{{broker_id}}/trainings"): Row(
        allow(201, *ADMIN),
        lambda f, r: Req(
            {"broker_id": f.w.broker_id},
            json={"course": "技术合同认定登记实务", "hours": 8, "completed_on": "2025-05-01"},
        ),
    ),
    ("GET", f"{P}/registry/memberships"): Row(allow(200, *ADMIN)),
    ("POST", f"{P}/registry/memberships"): Row(
        allow(201, "enterprise", "other_enterprise", "institution", "admin"), lambda f, r: Req(json={})
    ),
    ("POST", f"{P}/registry/memberships/{{membership_id}}/review"): Row(
        allow(200, *ADMIN),
        lambda f, r: Req({"membership_id": _pending_membership(f)}, json={"approve": True, "term_years": 3}),
    ),
    ("GET", f"{P}/registry/institutions"): Row(allow(200, *STATS)),
    ("POST", f"{P}/registry/institutions"): Row(
        allow(201, *ADMIN),
        lambda f, r: Req(
            json={"org_id": _fresh_org(f), "kind": "技术经纪", "origin": "cultivated", "since": "2025-06-01"}
        ),
    ),
    ("GET", f"{P}/registry/achievements-transferred"): Row(allow(200, *STATS)),
    ("POST", f"{P}/registry/achievements/{{achievement_id}}/influential"): Row(
        allow(201, *ADMIN),
        lambda f, r: Req({"achievement_id": f.achievement()}, json={"reason": "首台套推广应用"}),
    ),
    ("GET", f"{P}/subsidies"): Row(allow(200, *ADMIN), lambda f, r: Req(params={"year": 2026})),
    ("GET", f"{P}/policy-rules"): Row(allow(200, *ADMIN)),
    ("POST", f"{P}/policy-rules"): Row(allow(201, *ADMIN), _rule_body),
    ("GET", f"{P}/exports/{{table}}"): Row(
        allow(200, *STATS),
        lambda f, r: Req({"table": "turnover"}, params={"format": "xlsx", "group_by": "city"}),
    ),
    ("GET", f"{P}/exports/annual-report"): Row(allow(200, *ADMIN), lambda f, r: Req(params={"year": 2026})),
    # reference data and administration
    ("GET", f"{P}/reference/fields"): Row(everyone()),
    ("GET", f"{P}/reference/regions"): Row(everyone()),
    ("POST", f"{P}/admin/reindex"): Row(allow(202, *ADMIN)),
    ("GET", f"{P}/admin/jobs/{{job_id}}"): Row(allow(200, *ADMIN), _job),
    ("GET", f"{P}/admin/jobs"): Row(allow(200, *ADMIN)),
    ("POST", f"{P}/admin/jobs/matching"): Row(allow(202, *ADMIN), _matching_job),
    ("POST", f"{P}/admin/jobs/assign"): Row(allow(202, *ADMIN)),
}


def api_routes() -> set[tuple[str, str]]:
    app = create_app(Settings(dev_mode=True))
    routes = set()
    for ctx in iter_route_contexts(app.routes):  # FastAPI includes routers lazily; this flattens them
        if isinstance(ctx.original_route, APIRoute) and (ctx.path or "").startswith(API_PREFIX):
            routes |= {(method, ctx.path or "") for method in ctx.methods or ()}
    return routes


def test_every_endpoint_has_a_row() -> None:
    routes = api_routes()
    missing = sorted(routes - MATRIX.keys())
    stale = sorted(MATRIX.keys() - routes)
    assert not missing, f"endpoints without an authorisation row: {missing}"
    assert not stale, f"rows for endpoints that do not exist: {stale}"


def test_every_row_covers_every_role() -> None:
    for key, row in MATRIX.items():
        assert set(row.expect) == set(ROLES), key


def _call(
    client: TestClient, world: World, f: Factory, method: str, template: str, role: str, row: Row
) -> int:
    req = row.build(f, role)
    path = template.format(**req.path_args)
    headers = {**world.headers(role), **req.headers}
    response = client.request(
        method, path, json=req.json, params=req.params, data=req.data, content=req.content, headers=headers
    )
    if response.status_code >= 400:
        body = response.json()
        assert set(body) == {"error"} and {"code", "message"} <= set(body["error"]), body
    return response.status_code


@pytest.mark.parametrize("key", sorted(MATRIX), ids=lambda k: f"{k[0]} {k[1].removeprefix(P)}")
def test_authorisation(key: tuple[str, str], client: TestClient, world: World) -> None:
    method, template = key
    row = MATRIX[key]
    f = Factory(world)
    f.client = client  # type: ignore[attr-defined]
    got = {role: _call(client, world, f, method, template, role, row) for role in ROLES}
    assert got == row.expect


def _roles(expect: dict[str, int], status: Iterable[int]) -> set[str]:
    return {r for r, s in expect.items() if s in status}


def test_matrix_is_not_trivial() -> None:
    """Guard against a table that allows everything: most endpoints refuse someone."""
    refusing = [k for k, row in MATRIX.items() if _roles(row.expect, (403,))]
    assert len(refusing) >= len(MATRIX) // 2


def test_a_broker_sees_only_the_matches_assigned_to_them(client: TestClient, world: World) -> None:
    f = Factory(world)
    mine, theirs = f.match(), f.match()
    other_user = f.broker_user()
    admin = world.headers("admin")
    other_broker = client.post(
        f"{P}/brokers", json={"user_id": other_user, "field_codes": ["F02"]}, headers=admin
    ).json()
    assert (
        client.post(
            f"{P}/matches/{theirs}/reassign", json={"broker_id": other_broker["id"]}, headers=admin
        ).status_code
        == 200
    )
    queue = client.get(f"{P}/matches", headers=world.headers("broker")).json()
    assert [m["id"] for m in queue] == [mine]
    for method, path, body in (
        ("GET", f"{P}/matches/{theirs}", None),
        ("POST", f"{P}/matches/{theirs}/decision", {"accept": True}),
        ("GET", f"{P}/matches/{theirs}/messages", None),
    ):
        r = client.request(method, path, json=body, headers=world.headers("broker"))
        assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden", path
    assert client.get(f"{P}/matches/{mine}", headers=world.headers("broker")).status_code == 200
