"""End to end on PostgreSQL: need and achievement → suggestion → assignment → accept → negotiation →
contract → payments → registration → statistics, target progress and subsidies, exact to the fen.

The ledger is built so that the digest's worked examples (§3.1) appear as real figures:
M1 ¥10M paid → ¥3M and ¥20M paid → ¥5M (cap); M2 ¥8M prior-year turnover → ¥160k and ¥30M → ¥500k
(cap); M3 ¥1bn registered → ¥200k and ¥3bn → ¥500k (cap).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlmodel import Session, select

from models import Contract, ContractStatus, Match, MatchStatus
from models.registry_schemas import BrokerRegistryUpdate, MembershipApply, MembershipReview, TrainingCreate
from models.schemas import (
    AchievementCreate,
    ContractCreate,
    MessageCreate,
    NeedCreate,
    PaymentCreate,
    RegistrationCreate,
    ReviewDecision,
    TargetCreate,
)
from services import contracts, negotiation, postings, registries, review, stats, subsidies, targets
from services.assignment import assign_matches
from services.errors import ConflictError, InvalidInputError, PermissionDeniedError
from services.index import IndexService
from services.matching import run_matching
from tests.services.conftest import World

D = Decimal  # short for the many money literals below

pytestmark = pytest.mark.postgres

NEED = (
    "盾构机刀盘滚刀磨损快换刀频繁",
    "盾构施工中刀盘和滚刀磨损严重，换刀频繁，需要高耐磨滚刀材料，延长刀具寿命。",
    "F02",
)
OTHER_NEED = ("空分设备节能改造", "大型空分装置能耗高，需要节能的精馏塔和换热技术。", "F02")
ACHIEVEMENT = (
    "高耐磨硬质合金盾构滚刀材料",
    "一种用于盾构滚刀的硬质合金材料，耐磨性提高一倍，盾构刀盘换刀次数减少，刀具寿命延长。",
    "F02",
)
DISTRACTORS = [
    ("抗赤霉病小麦新品种", "选育出高抗赤霉病的小麦品种，产量稳定，适合黄淮麦区推广。", "F11"),
    ("宽温域锂离子电池电解液", "新型电解液在零下三十度仍保持百分之八十容量，适用于储能电池。", "F06"),
]


def _post(world: World, index: IndexService) -> tuple[int, int]:
    e, u = world.engine, world.actor
    need = postings.create_need(
        e, index, u["ent"], NeedCreate(title=NEED[0], description=NEED[1], field_code=NEED[2])
    )
    postings.create_need(
        e, index, u["ent2"], NeedCreate(title=OTHER_NEED[0], description=OTHER_NEED[1], field_code="F02")
    )
    ach = postings.create_achievement(
        e, index, u["uni"], AchievementCreate(title=ACHIEVEMENT[0], abstract=ACHIEVEMENT[1], field_code="F02")
    )
    for title, body, code in DISTRACTORS:
        postings.create_achievement(
            e, index, u["inst"], AchievementCreate(title=title, abstract=body, field_code=code)
        )
    return need["id"], ach["id"]


def _suggest_and_assign(world: World, index: IndexService, need_id: int, ach_id: int) -> int:
    e, admin = world.engine, world.actor["admin"]
    first = run_matching(e, index, admin, k=3)
    assert first["created"] == first["suggestions"] > 0
    again = run_matching(e, index, admin, k=3)
    assert again["created"] == 0 and again["refreshed"] == first["suggestions"]
    with Session(e) as s:
        match = s.exec(select(Match).where(Match.need_id == need_id, Match.achievement_id == ach_id)).one()
        assert match.rank == 1 and match.explanation["direction"] == "need_to_achievement"
        assert match.explanation["shared_terms"] and match.engine_version == index.engine_version
    summary = assign_matches(e, admin)
    assert summary["assigned"] + len(summary["unassigned"]) == summary["considered"]
    with Session(e) as s:
        assigned = s.get(Match, match.id)
        assert assigned is not None and assigned.status == MatchStatus.ASSIGNED
        assert assigned.broker_id == world.broker["b1"]  # covers F02 and Zhengzhou
    return match.id or 0


def _review_and_negotiate(world: World, match_id: int) -> None:
    e, a = world.engine, world.actor
    with pytest.raises(PermissionDeniedError):
        review.decide(e, a["b2"], match_id, ReviewDecision(accept=True))
    queue = review.broker_queue(e, a["b1"], status=MatchStatus.ASSIGNED)
    assert match_id in [row["id"] for row in queue]
    assert (
        review.decide(e, a["b1"], match_id, ReviewDecision(accept=True, comment="引荐双方"))["status"]
        == "accepted"
    )
    negotiation.post_message(e, a["ent"], match_id, MessageCreate(body="请问滚刀材料能否小批量试用？"))
    negotiation.post_message(e, a["uni"], match_id, MessageCreate(body="可以，先提供十把试用。"))
    with pytest.raises(PermissionDeniedError):
        negotiation.list_messages(e, a["inst"], match_id)
    assert [m["body"][:2] for m in negotiation.list_messages(e, a["b1"], match_id)] == ["请问", "可以"]
    assert review.get_match_detail(e, a["ent"], match_id)["match"]["status"] == "negotiating"


def _contract_from_match(world: World, match_id: int) -> int:
    e, a, before = world.engine, world.actor, world.counts()
    created = contracts.create_contract(
        e,
        a["b1"],
        ContractCreate(
            contract_number="ZZ-2025-001",
            contract_type="技术开发",
            title="盾构滚刀材料开发",
            match_id=match_id,
            contract_amount=D("12000000.00"),
            tech_transaction_amount=D("10000000.00"),
            signed_on=date(2025, 3, 10),
            is_open_call=True,
        ),
    )
    assert (created["buyer_org_id"], created["seller_org_id"]) == (world.org["ent"], world.org["uni"])
    assert created["broker_id"] == world.broker["b1"] and created["region_code"] == "410105"
    assert created["sub_center_code"] is None  # Zhengzhou is served by the Center itself
    cid = created["id"]
    contracts.add_payment(e, a["ent"], cid, PaymentCreate(amount=D("4000000.00"), paid_on=date(2025, 4, 1)))
    paid = contracts.add_payment(
        e, a["ent"], cid, PaymentCreate(amount=D("6000000.00"), paid_on=date(2025, 9, 1))
    )
    assert paid["paid_total"] == "10000000.00"
    after_payments = world.counts()
    with pytest.raises(InvalidInputError) as refused:
        contracts.add_payment(
            e, a["ent"], cid, PaymentCreate(amount=D("2000000.01"), paid_on=date(2025, 10, 1))
        )
    assert refused.value.code == "payments_exceed_contract" and world.counts() == after_payments
    registration = RegistrationCreate(registered_amount=D("12000000.00"), registered_on=date(2025, 4, 15))
    assert contracts.register_contract(e, a["reg1"], cid, registration)["status"] == "registered"
    registered = world.counts()
    with pytest.raises(ConflictError) as twice:
        contracts.register_contract(e, a["reg2"], cid, registration)
    assert twice.value.code == "already_registered" and world.counts() == registered
    assert (
        registered["Payment"] == before["Payment"] + 2
        and registered["Registration"] == before["Registration"] + 1
    )
    with Session(e) as s:
        assert s.get(Match, match_id).status == MatchStatus.CONTRACTED  # type: ignore[union-attr]
    return int(cid)


def _standalone_ledger(world: World) -> None:
    """Prior-year turnover (M2), a capped open-call project (M1), registrations (M3), a cancelled deal."""
    e, admin = world.engine, world.actor["admin"]
    for number, buyer, seller, amount, day in (
        ("P24-A", "ent2", "uni", "8000000.00", date(2024, 6, 1)),
        ("P24-B", "ent2", "uni2", "30000000.00", date(2024, 7, 1)),
        ("P24-C", "ent2", "inst", "9000000.00", date(2024, 8, 1)),  # Luoyang: outside M2's jurisdiction
    ):
        contracts.create_contract(e, admin, world.standalone(number, buyer, seller, amount, day))
    c2 = contracts.create_contract(
        e, admin, world.standalone("C2", "ent", "uni2", "25000000.00", date(2025, 5, 20), is_open_call=True)
    )
    contracts.add_payment(
        e, admin, c2["id"], PaymentCreate(amount=D("20000000.00"), paid_on=date(2025, 6, 1))
    )
    c3 = contracts.create_contract(
        e, admin, world.standalone("C3", "ent2", "inst", "988000000.00", date(2025, 2, 1))
    )
    assert c3["region_code"] == "410200" and c3["sub_center_code"] == "SC04"
    contracts.register_contract(
        e,
        world.actor["reg1"],
        c3["id"],
        RegistrationCreate(registered_amount=D("988000000.00"), registered_on=date(2025, 2, 10)),
    )
    c4 = contracts.create_contract(
        e,
        admin,
        world.standalone("C4", "ent2", "uni2", "3000000000.00", date(2025, 8, 1), region_code="410300"),
    )
    contracts.register_contract(
        e,
        world.actor["reg2"],
        c4["id"],
        RegistrationCreate(registered_amount=D("3000000000.00"), registered_on=date(2025, 8, 5)),
    )
    c5 = contracts.create_contract(
        e, admin, world.standalone("C5", "ent", "uni", "1000000.00", date(2025, 1, 5), is_open_call=True)
    )
    contracts.add_payment(e, admin, c5["id"], PaymentCreate(amount=D("500000.00"), paid_on=date(2025, 1, 20)))
    assert contracts.cancel_contract(e, admin, c5["id"], "双方解除")["status"] == "cancelled"


def _check_statistics(world: World) -> None:
    e = world.engine

    def table(group: str, **kw: object) -> dict[str, tuple[int, D, D, D]]:
        rows = stats.turnover(e, group_by=group, **kw)  # type: ignore[arg-type]
        return {
            r["key"]: (
                r["contracts"],
                r["contract_amount"],
                r["registered_amount"],
                r["tech_transaction_amount"],
            )
            for r in rows
        }

    assert table("year") == {
        "2024": (3, D("47000000.00"), D("0.00"), D("47000000.00")),
        "2025": (4, D("4025000000.00"), D("4000000000.00"), D("4023000000.00")),
    }
    assert table("quarter", year=2025) == {
        "2025-Q1": (2, D("1000000000.00"), D("1000000000.00"), D("998000000.00")),
        "2025-Q2": (1, D("25000000.00"), D("0.00"), D("25000000.00")),
        "2025-Q3": (1, D("3000000000.00"), D("3000000000.00"), D("3000000000.00")),
    }
    cities = stats.turnover(e, group_by="city", year=2025)
    assert [(r["key"], r["label"], r["contract_amount"]) for r in cities] == [
        ("410300", "洛阳市", D("3000000000.00")),
        ("410200", "开封市", D("988000000.00")),
        ("410100", "郑州市", D("37000000.00")),
    ]
    assert {k: v[1] for k, v in table("sub_center", year=2025).items()} == {
        "SC01": D("3000000000.00"),
        "SC04": D("988000000.00"),
        "center": D("37000000.00"),
    }
    assert {k: v[1] for k, v in table("org", year=2025).items()} == {
        str(world.org["uni2"]): D("3025000000.00"),
        str(world.org["inst"]): D("988000000.00"),
        str(world.org["uni"]): D("12000000.00"),
    }
    assert table("broker", year=2025)[str(world.broker["b1"])][1] == D("12000000.00")
    assert table("month", year=2025, region_code="410100") == {
        "2025-03": (1, D("12000000.00"), D("12000000.00"), D("10000000.00")),
        "2025-05": (1, D("25000000.00"), D("0.00"), D("25000000.00")),
    }
    with Session(e) as s:
        n_matches = len(s.exec(select(Match.id)).all())
    f = {st["stage"]: st for st in stats.funnel(e)["stages"]}
    assert [f[k]["count"] for k in ("suggested", "accepted", "negotiating", "contracted")] == [
        n_matches,
        1,
        1,
        1,
    ]
    assert f["contracted"]["contract_amount"] == D("12000000.00")
    assert f["contracted"]["rate_from_previous"] == D("100.00")
    this_year = datetime.now(UTC).year
    assert stats.funnel(e, year=this_year)["total"] == n_matches and stats.funnel(e, year=2020)["total"] == 0
    totals = stats.totals(e)
    assert (totals["contracts"], totals["contract_amount"], totals["paid_amount"]) == (
        7,
        D("4072000000.00"),
        D("30000000.00"),
    )


def _check_targets(world: World) -> None:
    e, admin = world.engine, world.actor["admin"]
    seeded = targets.load_reference_targets_and_rules(e)
    assert seeded["rules_created"] == 4 and seeded["targets_skipped"] == []  # 翻一番 and growth load too
    assert targets.load_reference_targets_and_rules(e)["rules_unchanged"] == 4  # idempotent
    year = {"period_start": date(2025, 1, 1), "period_end": date(2025, 12, 31)}
    for code, scope, region, metric, value, org in (
        ("ZZ25", "city", "410100", "contract_turnover", "100000000.00", None),
        ("REG25", "province", "410000", "registered_turnover", "5000000000.00", None),
        ("BRK25", "center", None, "brokers", "10", None),
        ("MEM25", "center", None, "member_units", "1000", None),
        ("ACH25", "center", None, "achievements_transferred", "100", None),
        ("ENT25", "org", None, "contracts", "10", world.org["ent"]),
    ):
        targets.create_target(
            e,
            admin,
            TargetCreate(
                code=code,
                name=code,
                scope=scope,
                region_code=region,
                metric=metric,
                value=D(value),
                org_id=org,
                **year,
            ),
        )
    with pytest.raises(ConflictError):
        targets.create_target(
            e,
            admin,
            TargetCreate(code="ZZ25", name="x", scope="center", metric="contracts", value=D(1), **year),
        )
    # the registries count by rule: b1 certified and trained (b2 not), uni an approved member
    registries.update_broker(
        e,
        admin,
        world.broker["b1"],
        BrokerRegistryUpdate(
            certification_level="初级", certificate_number="JS-1", certified_on=date(2024, 1, 10)
        ),
    )
    registries.add_training(
        e,
        admin,
        world.broker["b1"],
        TrainingCreate(course="技术市场法规", hours=16, completed_on=date(2024, 2, 1)),
    )
    applied = registries.apply_membership(e, world.actor["uni"], MembershipApply())
    registries.review_membership(
        e, admin, int(applied["id"]), MembershipReview(approve=True, term_start=date(2024, 1, 1))
    )
    got = {t["code"]: t for t in targets.target_progress(e, today=date(2025, 6, 30))}
    zz = got["ZZ25"]
    assert (zz["actual"], zz["percent"], zz["projection"], zz["on_track"]) == (
        D("37000000.00"),
        D("37.00"),
        D("74613259.67"),
        False,  # 37M × 365 / 181 days
    )
    kaifeng = got["T11"]  # the shipped target: Kaifeng > 20亿 in 2025
    assert (kaifeng["actual"], kaifeng["percent"], kaifeng["projection"]) == (
        D("988000000.00"),
        D("49.40"),
        D("1992375690.61"),
    )
    assert got["REG25"]["actual"] == D("1000000000.00")  # C1 and C3 registered by June; C4 in August
    assert (got["BRK25"]["actual"], got["BRK25"]["projection"]) == (
        1,
        D("1.00"),
    )  # a stock: no run-rate growth
    # ZZ-2025-001 is paid 10M of 12M: its achievement is not transferred yet
    assert (got["MEM25"]["actual"], got["ACH25"]["actual"], got["ENT25"]["actual"]) == (1, 0, 2)
    assert got["T03"]["state"] == "ended" and got["T03"]["actual"] == 0  # 2016-2020: nobody yet


def _check_subsidies(world: World) -> None:
    e = world.engine
    rows = subsidies.compute_subsidies(e, year=2025)
    o = world.org
    assert [
        (
            r["rule_code"],
            r["beneficiary_org_id"],
            r["contract_number"],
            r["base_amount"],
            r["subsidy"],
            r["capped"],
        )
        for r in rows
    ] == [
        ("M1", o["ent"], "C2", D("20000000.00"), D("5000000.00"), True),
        ("M1", o["ent"], "ZZ-2025-001", D("10000000.00"), D("3000000.00"), False),
        ("M2", o["uni2"], None, D("30000000.00"), D("500000.00"), True),
        ("M2", o["uni"], None, D("8000000.00"), D("160000.00"), False),
        ("M3", o["reg2"], None, D("3000000000.00"), D("500000.00"), True),
        ("M3", o["reg1"], None, D("1000000000.00"), D("200000.00"), False),
    ]
    assert sum(r["subsidy"] for r in rows) == D("9360000.00")
    next_year = {
        (r["rule_code"], r["beneficiary_org_id"]): r["subsidy"]
        for r in subsidies.compute_subsidies(e, year=2026)
    }
    assert next_year == {("M2", o["uni2"]): D("500000.00"), ("M2", o["uni"]): D("240000.00")}


def test_full_workflow_on_postgres(pg_world: World, index: IndexService) -> None:
    need_id, ach_id = _post(pg_world, index)
    match_id = _suggest_and_assign(pg_world, index, need_id, ach_id)
    _review_and_negotiate(pg_world, match_id)
    _contract_from_match(pg_world, match_id)
    _standalone_ledger(pg_world)
    _check_statistics(pg_world)
    _check_targets(pg_world)
    _check_subsidies(pg_world)
    with Session(pg_world.engine) as s:
        cancelled = s.exec(select(Contract).where(Contract.contract_number == "C5")).one()
        assert cancelled.status == ContractStatus.CANCELLED and cancelled.cancel_reason == "双方解除"
