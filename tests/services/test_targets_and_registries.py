"""Each rule of the targets and the registries, pinned on small hand-made ledgers (SQLite and PostgreSQL):
the three kinds of target (absolute, baseline multiple 翻一番, growth relative to another region), edit
and retire, and how brokers, member units, institutions and transferred achievements count."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlmodel import Session

from models import Achievement, Match, MatchStatus, Need
from models.registry_schemas import (
    BrokerRegistryUpdate,
    InfluentialFlagCreate,
    InstitutionCreate,
    MembershipApply,
    MembershipReview,
    TargetUpdate,
    TrainingCreate,
)
from models.schemas import PaymentCreate, TargetCreate
from services import contracts, registries, scoreboard, stats, targets
from services.errors import ConflictError, InvalidInputError, PermissionDeniedError
from tests.services.conftest import World

D = Decimal
HENAN, CHANGYUAN, KAIFENG = "410000", "410783", "410200"


def _deal(world: World, number: str, amount: str, signed: date, region: str, paid: str | None = None) -> int:
    data = world.standalone(number, "ent", "uni", amount, signed, region_code=region)
    cid = int(contracts.create_contract(world.engine, world.actor["admin"], data)["id"])
    if paid is not None:
        contracts.add_payment(
            world.engine, world.actor["admin"], cid, PaymentCreate(amount=D(paid), paid_on=signed)
        )
    return cid


def _target(world: World, **values: object) -> dict[str, object]:
    base: dict[str, object] = {"name": "目标", "metric": "contract_turnover"}
    return targets.create_target(
        world.engine, world.actor["admin"], TargetCreate.model_validate({**base, **values})
    )


def _progress(world: World, code: str, today: date) -> dict[str, object]:
    return next(t for t in targets.target_progress(world.engine, today=today) if t["code"] == code)


def test_absolute_target_counts_the_period_and_projects_the_run_rate(world: World) -> None:
    _deal(world, "A-1", "300.00", date(2025, 1, 10), "410100")
    _deal(world, "A-2", "100.00", date(2024, 12, 31), "410100")  # before the period
    _deal(world, "A-3", "50.00", date(2025, 2, 1), KAIFENG)  # outside the region
    _target(
        world,
        code="ABS",
        scope="city",
        region_code="410100",
        period_start="2025-01-01",
        period_end="2025-12-31",
        value="1000.00",
    )
    running = _progress(world, "ABS", date(2025, 3, 31))  # 90 of 365 days
    assert (running["actual"], running["projection"], running["outcome"]) == (
        D("300.00"),
        D("1216.67"),
        "on_track",
    )
    ended = _progress(world, "ABS", date(2026, 1, 5))
    assert (ended["state"], ended["outcome"], ended["percent"]) == ("ended", "missed", D("30.00"))


def test_baseline_multiple_doubles_the_baseline_year(world: World) -> None:
    """翻一番: the 2020 value must reach 2 × the 2015 value of the same scope (Henan)."""
    _deal(world, "B-2015a", "400.00", date(2015, 3, 1), "410100")
    _deal(world, "B-2015b", "100.00", date(2015, 9, 1), KAIFENG)
    _deal(world, "B-2020", "990.00", date(2020, 6, 1), CHANGYUAN)
    _target(
        world,
        code="DBL",
        scope="province",
        region_code=HENAN,
        kind="baseline_multiple",
        factor="2",
        baseline_year=2015,
        period_start="2016-01-01",
        period_end="2020-12-31",
    )
    ended = _progress(world, "DBL", date(2021, 3, 1))
    assert (ended["baseline"], ended["value"], ended["actual"]) == (D("500.00"), D("1000.00"), D("990.00"))
    assert (ended["outcome"], ended["percent"]) == ("missed", D("99.00"))
    _deal(world, "B-2020b", "10.00", date(2020, 12, 31), "410100")
    assert _progress(world, "DBL", date(2021, 3, 1))["outcome"] == "achieved"
    # a year in progress is projected to the full year: 1000 by 1 July (182 of 366 days) → 2010.99
    during = _progress(world, "DBL", date(2020, 6, 30))
    assert (
        during["actual"] == D("990.00")
        and during["projection"] == D("1990.88")
        and during["outcome"] == "on_track"
    )


def test_relative_growth_compares_average_annual_growth_with_the_province(world: World) -> None:
    """Changyuan 2018 → 2020: 100 → 400 (+100%/yr); Henan 1100 → 1600 (+20.6%/yr): achieved."""
    _deal(world, "R-18c", "100.00", date(2018, 5, 1), CHANGYUAN)
    _deal(world, "R-18p", "1000.00", date(2018, 5, 1), "410100")
    _deal(world, "R-20c", "400.00", date(2020, 5, 1), CHANGYUAN)
    _deal(world, "R-20p", "1200.00", date(2020, 5, 1), "410300")
    _target(
        world,
        code="REL",
        scope="county",
        region_code=CHANGYUAN,
        kind="relative_growth",
        comparator="gt",
        reference_region_code=HENAN,
        period_start="2019-01-01",
        period_end="2020-12-31",
    )
    row = _progress(world, "REL", date(2021, 1, 15))
    assert (row["unit"], row["actual"], row["value"], row["outcome"]) == (
        "percent",
        D("100.00"),
        D("20.60"),
        "achieved",
    )
    assert row["percent"] is None and row["baseline"] == D("100.00")
    _deal(world, "R-20p2", "20000.00", date(2020, 8, 1), "410100")  # the province now grows faster
    assert _progress(world, "REL", date(2021, 1, 15))["outcome"] == "missed"


def test_relative_growth_without_a_baseline_year_is_unmeasured(world: World) -> None:
    _deal(world, "U-20", "400.00", date(2020, 5, 1), CHANGYUAN)
    _target(
        world,
        code="REL0",
        scope="county",
        region_code=CHANGYUAN,
        kind="relative_growth",
        reference_region_code=HENAN,
        period_start="2019-01-01",
        period_end="2020-12-31",
    )
    row = _progress(world, "REL0", date(2021, 1, 15))
    assert (row["actual"], row["value"], row["outcome"], row["measured"]) == (None, None, "unmeasured", False)


def test_targets_are_edited_and_retired_and_each_kind_is_checked(world: World) -> None:
    e, admin = world.engine, world.actor["admin"]
    created = _target(
        world, code="ED", scope="center", period_start="2025-01-01", period_end="2025-12-31", value="10.00"
    )
    tid = int(str(created["id"]))
    with pytest.raises(PermissionDeniedError):
        targets.update_target(e, world.actor["b1"], tid, TargetUpdate(value=D("20.00")))
    with pytest.raises(InvalidInputError):  # a baseline multiple needs its factor and year
        targets.update_target(e, admin, tid, TargetUpdate(kind="baseline_multiple"))
    with pytest.raises(InvalidInputError):
        targets.update_target(e, admin, tid, TargetUpdate(period_end=date(2024, 1, 1)))
    targets.update_target(e, admin, tid, TargetUpdate(value=D("20.00"), name="改后"))
    row = _progress(world, "ED", date(2025, 6, 1))
    assert (row["value"], row["name"]) == (D("20.00"), "改后")
    targets.retire_target(e, admin, tid)
    assert "ED" not in {t["code"] for t in targets.target_progress(e)}
    assert "ED" in {t["code"] for t in targets.target_progress(e, include_retired=True)}
    with pytest.raises(ConflictError):
        targets.update_target(e, admin, tid, TargetUpdate(value=D("30.00")))
    bad = {
        "name": "x",
        "metric": "brokers",
        "scope": "center",
        "period_start": "2016-01-01",
        "period_end": "2020-12-31",
    }
    with pytest.raises(InvalidInputError):  # a count target without a value
        targets.create_target(e, admin, TargetCreate.model_validate({**bad, "code": "X1"}))
    with pytest.raises(InvalidInputError):  # growth needs a reference region
        targets.create_target(
            e,
            admin,
            TargetCreate.model_validate(
                {**bad, "code": "X2", "metric": "contract_turnover", "kind": "relative_growth"}
            ),
        )


def test_a_broker_counts_when_certified_trained_and_active(world: World) -> None:
    e, admin = world.engine, world.actor["admin"]
    b1 = world.broker["b1"]

    def counted(day: date) -> int:
        return int(stats.totals(e, today=day)["brokers_counted"])

    registries.update_broker(
        e,
        admin,
        b1,
        BrokerRegistryUpdate(
            certification_level="中级",
            certificate_number="JS-1",
            certificate_issuer="河南省科学技术厅",
            certified_on=date(2024, 3, 1),
        ),
    )
    assert counted(date(2025, 1, 1)) == 0  # certified, not trained
    registries.add_training(
        e, admin, b1, TrainingCreate(course="技术合同认定登记实务", hours=8, completed_on=date(2024, 5, 1))
    )
    assert counted(date(2025, 1, 1)) == 0  # 8 of 16 hours
    registries.add_training(
        e, admin, b1, TrainingCreate(course="技术市场法规", hours=8, completed_on=date(2024, 9, 1))
    )
    assert (counted(date(2024, 8, 31)), counted(date(2024, 9, 1))) == (0, 1)
    registries.update_broker(e, admin, b1, BrokerRegistryUpdate(status="suspended"))
    assert counted(date(2025, 1, 1)) == 0
    entry = next(b for b in registries.broker_registry(e) if b["id"] == b1)
    assert (entry["training_hours"], entry["counted"], entry["status"]) == (16, False, "suspended")
    with pytest.raises(InvalidInputError):  # a level without a certificate number
        registries.update_broker(
            e, admin, world.broker["b2"], BrokerRegistryUpdate(certification_level="初级")
        )


def test_broker_deal_record_comes_from_the_ledger(world: World) -> None:
    data = world.standalone("BR-1", "ent", "uni", "5000.00", date(2025, 2, 1))
    cid = int(contracts.create_contract(world.engine, world.actor["b1"], data)["id"])
    contracts.create_contract(
        world.engine, world.actor["b1"], world.standalone("BR-2", "ent", "uni", "7000.00", date(2025, 3, 1))
    )
    contracts.cancel_contract(world.engine, world.actor["admin"], cid, "解除")
    entry = next(b for b in registries.broker_registry(world.engine) if b["id"] == world.broker["b1"])
    assert (entry["contracts_brokered"], entry["turnover"]) == (1, D("7000.00"))


def test_member_units_count_inside_their_term_and_stop_when_it_expires(world: World) -> None:
    e, admin = world.engine, world.actor["admin"]
    applied = registries.apply_membership(e, world.actor["ent"], MembershipApply())
    with pytest.raises(ConflictError):
        registries.apply_membership(e, world.actor["ent"], MembershipApply())
    with pytest.raises(PermissionDeniedError):
        registries.apply_membership(e, world.actor["ent"], MembershipApply(org_id=world.org["ent2"]))
    assert stats.totals(e, today=date(2025, 6, 1))["member_units"] == 0  # applied is not a member
    registries.review_membership(
        e,
        admin,
        int(applied["id"]),
        MembershipReview(approve=True, term_start=date(2025, 1, 1), term_years=2),
    )
    with pytest.raises(ConflictError):
        registries.review_membership(e, admin, int(applied["id"]), MembershipReview(approve=True))
    other = registries.apply_membership(e, world.actor["uni"], MembershipApply())
    registries.review_membership(e, admin, int(other["id"]), MembershipReview(approve=False, note="材料不全"))
    assert [
        stats.totals(e, today=d)["member_units"]
        for d in (date(2024, 12, 31), date(2026, 12, 31), date(2027, 1, 1))
    ] == [0, 1, 0]
    states = {m["org_id"]: m["state"] for m in registries.list_memberships(e, today=date(2027, 1, 1))}
    assert states == {world.org["ent"]: "expired", world.org["uni"]: "rejected"}


def test_institutions_count_as_introduced_or_cultivated_in_the_period(world: World) -> None:
    e, admin = world.engine, world.actor["admin"]
    for org, kind, origin, since in (
        ("agency", "技术经纪", "cultivated", date(2018, 5, 1)),
        ("agency2", "区域综合性", "cultivated", date(2021, 5, 1)),  # after the period
        ("uni2", "研发机构", "introduced", date(2019, 5, 1)),
        ("inst", "行业专业性", "introduced", date(2020, 5, 1)),
    ):
        registries.register_institution(
            e, admin, InstitutionCreate(org_id=world.org[org], kind=kind, origin=origin, since=since)
        )
    with pytest.raises(ConflictError):
        registries.register_institution(
            e,
            admin,
            InstitutionCreate(
                org_id=world.org["agency"], kind="技术经纪", origin="cultivated", since=date(2018, 1, 1)
            ),
        )
    period = {"scope": "center", "period_start": "2016-01-01", "period_end": "2020-12-31", "value": "100"}
    for code, metric in (
        ("CUL", "tt_institutions"),
        ("RD", "rd_institutions_introduced"),
        ("TTI", "tt_institutions_introduced"),
    ):
        _target(world, code=code, metric=metric, **period)
    got = {t["code"]: t["actual"] for t in targets.target_progress(e, today=date(2026, 1, 1))}
    assert (got["CUL"], got["RD"], got["TTI"]) == (1, 2, 1)


def _achievement_contract(world: World, number: str, amount: str, signed: date) -> tuple[int, int]:
    with Session(world.engine) as s:
        need = Need(
            org_id=world.org["ent"], title="n", description="d", field_code="F02", region_code="410105"
        )
        ach = Achievement(
            org_id=world.org["uni"],
            title=f"成果{number}",
            abstract="a",
            field_code="F02",
            region_code="410100",
        )
        s.add_all([need, ach])
        s.flush()
        match = Match(
            need_id=need.id or 0,
            achievement_id=ach.id or 0,
            score=1,
            rank=1,
            engine_version="t",
            broker_id=world.broker["b1"],
            status=MatchStatus.NEGOTIATING,
        )
        s.add(match)
        s.commit()
        match_id, ach_id = match.id or 0, ach.id or 0
    data = world.standalone(number, "ent", "uni", amount, signed, match_id=match_id)
    return int(contracts.create_contract(world.engine, world.actor["b1"], data)["id"]), ach_id


def test_an_achievement_counts_once_its_contract_is_fully_paid_and_influential_by_rule(world: World) -> None:
    e, admin = world.engine, world.actor["admin"]
    big, big_ach = _achievement_contract(world, "F-1", "1500000.00", date(2025, 1, 10))
    small, small_ach = _achievement_contract(world, "F-2", "200000.00", date(2025, 1, 10))
    _achievement_contract(world, "F-3", "3000000.00", date(2025, 1, 10))  # never paid
    period = {"scope": "center", "period_start": "2025-01-01", "period_end": "2025-12-31", "value": "10"}
    _target(world, code="TR", metric="achievements_transferred", **period)
    _target(world, code="INF", metric="influential_achievements", **period)

    def got(day: date) -> tuple[object, object]:
        rows = {t["code"]: t["actual"] for t in targets.target_progress(e, today=day)}
        return rows["TR"], rows["INF"]

    contracts.add_payment(e, admin, big, PaymentCreate(amount=D("1000000.00"), paid_on=date(2025, 2, 1)))
    assert got(date(2025, 12, 31)) == (0, 0)  # part paid
    contracts.add_payment(e, admin, big, PaymentCreate(amount=D("500000.00"), paid_on=date(2025, 4, 1)))
    contracts.add_payment(e, admin, small, PaymentCreate(amount=D("200000.00"), paid_on=date(2025, 5, 1)))
    assert got(date(2025, 3, 31)) == (0, 0) and got(date(2025, 12, 31)) == (2, 1)
    registries.flag_influential(e, admin, small_ach, InfluentialFlagCreate(reason="首台套应用"))
    with pytest.raises(ConflictError):
        registries.flag_influential(e, admin, small_ach, InfluentialFlagCreate(reason="again"))
    assert got(date(2025, 12, 31)) == (2, 2)
    listed = {a["achievement_id"]: a for a in registries.transferred_achievements(e, world.actor["reg1"])}
    assert (
        set(listed) == {big_ach, small_ach}
        and listed[small_ach]["flagged"]
        and listed[big_ach]["influential"]
    )
    with pytest.raises(PermissionDeniedError):
        registries.transferred_achievements(e, world.actor["ent"])


def test_scoreboard_rows_carry_rule_and_citation(world: World) -> None:
    targets.load_reference_targets_and_rules(world.engine)
    rows = {r["code"]: r for r in scoreboard.scoreboard_rows(world.engine, today=date(2026, 6, 1))}
    assert {r["section"] for c, r in rows.items() if c in ("T02", "T03", "T04", "T05", "T06", "T07")} == {
        "1242"
    }
    assert {rows[c]["section"] for c in ("T01", "T10", "T11", "T12")} == {"turnover"}
    assert rows["T03"]["rule"].startswith("持证") and rows["T03"]["citation"]["sources"] == ["000:L749"]
    assert rows["T12"]["kind"] == "relative_growth" and "年均增速" in rows["T12"]["rule"]
    assert "河南省科技创新“十三五”规划" in rows["T05"]["citation"]["documents"]
    assert all(r["current"] is not None for c, r in rows.items() if r["section"] == "1242")
