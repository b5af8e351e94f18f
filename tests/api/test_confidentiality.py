"""Confidential means confidential (issue 19, D2–D4): for every endpoint that returns postings or
suggestions, what a non-owner receives contains none of the hidden text, numbers or owners of any
confidential posting, on SQLite and PostgreSQL.

The hidden fields carry words that appear nowhere else (checked in every response) and marker words
that the other parties' public probing postings guess (an attacker guessing the text: exactly what
shared terms would echo back; checked in every explanation attached to a hidden posting), and
amounts that appear nowhere else."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from models import Match, Visibility
from tests.api.conftest import World
from tests.api.factory import Factory

P = "/api/v1"

# owner -> hidden description/abstract, keywords, numbers
HIDDEN_NEED_A = "鲲鹏锂硫隔膜配方要求循环寿命突破。鲲鹏锂硫隔膜配方的涂覆工艺保密。"
HIDDEN_NEED_B = "朱雀氢燃料电堆秘方用于重卡。朱雀氢燃料电堆秘方的膜电极寿命不足。"
HIDDEN_ACH = "麒麟石墨烯散热秘法可用于服务器。麒麟石墨烯散热秘法降低温度二十度。"
MARKERS = ("鲲鹏", "锂硫隔膜", "朱雀", "电堆秘方", "麒麟", "散热秘法", "霓虹钛", "玄武陶", "青龙")
# per hidden posting: words only its hidden text holds, and its numbers (also as 万元)
SECRETS_A = ("涂覆工艺保密", "1953217", "1000003", "195.32", "100.00")
SECRETS_B = ("膜电极寿命不足", "2468013", "246.80")
SECRETS_ACH = ("降低温度二十度", "可用于服务器", "876543", "87.65", "ZL2026SECRET77")
LEAK_PROBE = "鲲鹏锂硫隔膜配方 朱雀氢燃料电堆秘方 麒麟石墨烯散热秘法 霓虹钛合金 玄武陶瓷 青龙"


Key = tuple[str, int]  # ("need" | "achievement", id)


def _key(node: Any) -> Key | None:
    """Which posting a JSON object is (needs and achievements number their ids separately)."""
    if not isinstance(node, dict) or "id" not in node or "title" not in node:
        return None
    if "budget_max" in node:
        return ("need", node["id"])
    if "asking_price" in node:
        return ("achievement", node["id"])
    return None


@dataclass
class Market:
    hidden: dict[str, set[Key]] = field(default_factory=dict)  # viewer role -> hidden postings
    secrets: dict[Key, tuple[str, ...]] = field(default_factory=dict)
    need_a: int = 0
    need_b: int = 0
    ach: int = 0
    probes: dict[str, tuple[str, int]] = field(default_factory=dict)  # role -> (side, own public posting)


def _market(f: Factory, client: TestClient, world: World) -> Market:
    m = Market()
    m.need_a = f.need(
        owner="enterprise",
        visibility=Visibility.CONFIDENTIAL,
        title="储能电池隔膜技术需求",
        description=HIDDEN_NEED_A,
        keywords=["霓虹钛合金"],
        budget_min=Decimal("1000003.00"),
        budget_max=Decimal("1953217.00"),
    )
    m.need_b = f.need(
        owner="other_enterprise",
        visibility=Visibility.CONFIDENTIAL,
        title="重卡动力系统技术需求",
        description=HIDDEN_NEED_B,
        budget_max=Decimal("2468013.00"),
    )
    m.ach = f.achievement(
        owner="institution",
        visibility=Visibility.CONFIDENTIAL,
        title="数据中心散热技术",
        abstract=HIDDEN_ACH,
        keywords=["玄武陶瓷", "青龙"],
        asking_price=Decimal("876543.21"),
        ip_number="ZL2026SECRET77",
    )
    # public probes that guess the hidden words, one per party
    m.probes = {
        "enterprise": ("needs", f.need(owner="enterprise", title="散热与电堆需求", description=LEAK_PROBE)),
        "other_enterprise": (
            "needs",
            f.need(owner="other_enterprise", title="隔膜散热需求", description=LEAK_PROBE),
        ),
        "institution": (
            "achievements",
            f.achievement(
                owner="institution", title="隔膜与电堆成果", abstract=LEAK_PROBE, asking_price=None
            ),
        ),
    }
    a, b, c = ("need", m.need_a), ("need", m.need_b), ("achievement", m.ach)
    m.hidden = {
        "enterprise": {b, c},
        "other_enterprise": {a, c},
        "institution": {a, b},
        "broker": {a, b, c},  # assigned to none of their matches
        "registrar": {a, b, c},
        "anonymous": {a, b, c},
    }
    m.secrets = {a: SECRETS_A, b: SECRETS_B, c: SECRETS_ACH}
    run = client.post(f"{P}/matching/run", json={"k": 20}, headers=world.headers("admin"))
    assert run.status_code == 200 and run.json()["created"] > 0
    return m


def _responses(client: TestClient, world: World, f: Factory, m: Market, role: str) -> list[tuple[str, Any]]:
    """Every posting/suggestion-returning response this party can get."""
    h = world.headers(role)
    got: list[tuple[str, Any]] = []

    def get(path: str, **params: Any) -> None:
        r = client.get(path, params=params, headers=h)
        got.append((f"{path} {params}", r.text))

    for side in ("needs", "achievements"):
        get(f"{P}/{side}", limit=100)
        for org in world.org.values():
            get(f"{P}/{side}", org_id=org, limit=100)
        get(f"{P}/{side}", q="技术", limit=100)
    for pid in (m.need_a, m.need_b):
        get(f"{P}/needs/{pid}")
        get(f"{P}/needs/{pid}/suggestions", k=50)
    get(f"{P}/achievements/{m.ach}")
    get(f"{P}/achievements/{m.ach}/suggestions", k=50)
    if role in m.probes:
        side, own = m.probes[role]
        get(f"{P}/{side}/{own}/suggestions", k=50)
        for amount in ("1", "1953218", "10000000000"):
            get(
                f"{P}/{side}/{own}/suggestions",
                k=50,
                **{"min_budget" if side == "achievements" else "max_price": amount},
            )
    with Session(world.engine) as s:
        match_ids = [mt.id for mt in s.exec(select(Match)).all()]
    for mid in match_ids:
        get(f"{P}/matches/{mid}")
    get(f"{P}/matches", limit=500)
    get(f"{P}/contracts/recent")
    get("/console/achievements")
    get("/console/hall/live.json")
    return got


def _leaks(text: str, hidden: set[Key], m: Market) -> list[str]:
    found = [w for key in hidden for w in m.secrets[key] if w in text]
    try:
        body = json.loads(text)
    except ValueError:
        return found

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if _key(node) in hidden and node.get("org_id") is not None:
                found.append(f"owner of {_key(node)}")
            explained = [
                (node.get("posting"), node.get("explanation")),  # a suggestion
                *(
                    (node.get(side), (node.get("match") or {}).get("explanation"))
                    for side in ("need", "achievement")
                ),
            ]
            for posting, explanation in explained:
                if _key(posting) in hidden and explanation:
                    shown = json.dumps(explanation, ensure_ascii=False)
                    found.extend(f"{w} explains {_key(posting)}" for w in MARKERS if w in shown)
            for flag in node.get("duplicate_flags") or []:
                if (flag.get("side"), flag.get("existing_id")) in hidden:
                    found.append(f"duplicate flag naming {flag['existing_id']}")
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(body)
    return found


@pytest.mark.parametrize(
    "role", ["enterprise", "other_enterprise", "institution", "broker", "registrar", "anonymous"]
)
def test_non_owners_see_no_hidden_text_numbers_or_owners(client: TestClient, world: World, role: str) -> None:
    f = Factory(world)
    m = _market(f, client, world)
    # the owner does see them (so the markers are really there to be found)
    own = client.get(f"{P}/needs/{m.need_a}", headers=world.headers("enterprise")).json()
    assert "鲲鹏" in own["description"] and own["budget_max"] == "1953217.00"
    # a probe of the counterpart's side that the engine does rank against the hidden postings
    if role in m.probes:
        side, own_id = m.probes[role]
        ranked = client.get(f"{P}/{side}/{own_id}/suggestions", params={"k": 50}, headers=world.headers(role))
        ids = {s["posting"]["id"] for s in ranked.json()}
        reached = {("need" if side == "achievements" else "achievement", i) for i in ids}
        assert reached & m.hidden[role], (
            "the probe must reach a hidden posting for the check to mean anything"
        )

    leaks = {
        where: found
        for where, text in _responses(client, world, f, m, role)
        if (found := _leaks(text, m.hidden[role], m))
    }
    assert not leaks, leaks


def test_money_filters_cannot_bisect_a_hidden_budget(client: TestClient, world: World) -> None:
    """A hidden budget takes no part in min_budget or in the natural price filter: the confidential need
    is suggested whatever the amount, and never flagged over budget."""
    f = Factory(world)
    m = _market(f, client, world)
    h = world.headers("institution")
    _, probe = m.probes["institution"]
    for amount in ("1", "1953216", "1953218", "10000000000"):
        got = client.get(
            f"{P}/achievements/{probe}/suggestions", params={"k": 50, "min_budget": amount}, headers=h
        )
        assert m.need_a in {s["posting"]["id"] for s in got.json()}, amount
    for price in ("1953216.00", "1953218.00"):
        patched = client.patch(f"{P}/achievements/{probe}", json={"asking_price": price}, headers=h)
        assert patched.status_code == 200
        got = client.get(f"{P}/achievements/{probe}/suggestions", params={"k": 50}, headers=h).json()
        [hit] = [s for s in got if s["posting"]["id"] == m.need_a]
        assert "over_budget" not in hit["explanation"]["flags"], price


def test_the_org_filter_does_not_reveal_owners_of_confidential_postings(
    client: TestClient, world: World
) -> None:
    f = Factory(world)
    m = _market(f, client, world)
    owner = world.org["ent_b"]
    seen = client.get(f"{P}/needs", params={"org_id": owner}, headers=world.headers("enterprise")).json()
    assert m.need_b not in {n["id"] for n in seen["items"]}
    assert seen["total"] == len(seen["items"]) == 1  # only the public probe
    mine = client.get(
        f"{P}/needs", params={"org_id": owner}, headers=world.headers("other_enterprise")
    ).json()
    assert m.need_b in {n["id"] for n in mine["items"]}  # the owner still finds its own


def test_near_duplicate_flags_do_not_point_at_hidden_postings(client: TestClient, world: World) -> None:
    f = Factory(world)
    m = _market(f, client, world)
    copy = client.post(
        f"{P}/needs",
        json={"title": "重卡动力系统技术需求", "description": HIDDEN_NEED_B, "field_code": "F02"},
        headers=world.headers("enterprise"),
    ).json()
    assert m.need_b not in {flag["existing_id"] for flag in copy["duplicate_flags"]}
    as_admin = client.get(f"{P}/needs/{copy['id']}", headers=world.headers("admin")).json()
    assert m.need_b in {
        flag["existing_id"] for flag in as_admin["duplicate_flags"]
    }  # flagged, shown to admins
