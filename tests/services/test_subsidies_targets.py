"""Subsidies come only from PolicyRule rows and are exact to the fen; targets seed idempotently and
measure progress by scope."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from data.reference import load_policy_rules
from models.schemas import PaymentCreate, PolicyRuleCreate, RegistrationCreate, TargetCreate
from services import contracts, subsidies, targets
from services.errors import ConflictError, InvalidInputError, PermissionDeniedError
from tests.services.conftest import World

D = Decimal  # short for the many money literals below


@pytest.mark.parametrize("rule", load_policy_rules(), ids=lambda r: r.code)
def test_apply_rule_reproduces_the_shipped_worked_examples(rule: object) -> None:
    """policy_rules.json carries the digest's examples (¥10M → ¥3M, ¥8M → ¥160k, ¥1bn → ¥200k, caps)."""
    import json
    from importlib import resources

    raw = json.loads(
        resources.files("data.reference").joinpath("policy_rules.json").read_text(encoding="utf-8")
    )
    spec = next(r for r in raw["rules"] if r["code"] == rule.code)  # type: ignore[attr-defined]
    for example in spec["examples"]:
        got = subsidies.apply_rule(D(spec["rate"]), D(example["base"]), D(spec["cap"]))
        assert got == D(example["subsidy"]).quantize(D("0.01"))


def test_apply_rule_rounds_half_up_to_the_fen() -> None:
    assert subsidies.apply_rule(D("0.30"), D("1000.15"), None) == D(
        "300.05"
    )  # 300.045; half-even gives 300.04
    assert subsidies.apply_rule(D("0.0002"), D("12345678.90"), D("500000")) == D("2469.14")
    assert subsidies.apply_rule(D("0.02"), D("25000000.00"), D("500000")) == D(
        "500000.00"
    )  # exactly at the cap


def _pay(world: World, number: str, amount: str, signed: date, payments: list[tuple[str, date]]) -> int:
    e, admin = world.engine, world.actor["admin"]
    cid = int(
        contracts.create_contract(
            e, admin, world.standalone(number, "ent", "uni", amount, signed, is_open_call=True)
        )["id"]
    )
    for paid, day in payments:
        contracts.add_payment(e, admin, cid, PaymentCreate(amount=D(paid), paid_on=day))
    return cid


def test_project_cap_holds_over_the_project_life(world: World) -> None:
    """M1's cap is per project (period 'project'): ¥15M paid in 2024 → ¥4.5M; ¥5M more in 2025 → only ¥0.5M."""
    targets.load_reference_targets_and_rules(world.engine)
    _pay(
        world,
        "JB-1",
        "30000000.00",
        date(2024, 2, 1),
        [("15000000.00", date(2024, 3, 1)), ("5000000.00", date(2025, 3, 1))],
    )
    _pay(world, "JB-2", "100000.00", date(2025, 1, 1), [("1000.15", date(2025, 2, 1))])
    y2024 = [r for r in subsidies.compute_subsidies(world.engine, year=2024) if r["rule_code"] == "M1"]
    assert [(r["contract_number"], r["subsidy"]) for r in y2024] == [("JB-1", D("4500000.00"))]
    y2025 = {
        r["contract_number"]: r
        for r in subsidies.compute_subsidies(world.engine, year=2025)
        if r["rule_code"] == "M1"
    }
    jb1 = y2025["JB-1"]
    assert (
        jb1["base_amount"],
        jb1["earlier_base_amount"],
        jb1["earlier_subsidy"],
        jb1["subsidy"],
        jb1["capped"],
    ) == (D("5000000.00"), D("15000000.00"), D("4500000.00"), D("500000.00"), True)
    assert y2025["JB-2"]["subsidy"] == D("300.05")
    # not a 揭榜挂帅 project: no M1
    contracts.create_contract(
        world.engine, world.actor["admin"], world.standalone("N-1", "ent", "uni", "9.00", date(2025, 1, 1))
    )
    assert "N-1" not in {r["contract_number"] for r in subsidies.compute_subsidies(world.engine, year=2025)}


def test_a_new_rule_on_an_existing_base_needs_no_code(world: World) -> None:
    e, admin = world.engine, world.actor["admin"]
    cid = int(
        contracts.create_contract(
            e, admin, world.standalone("R-1", "ent2", "inst", "12345678.90", date(2025, 4, 1))
        )["id"]
    )
    contracts.register_contract(
        e,
        world.actor["reg1"],
        cid,
        RegistrationCreate(registered_amount=D("12345678.90"), registered_on=date(2025, 4, 2)),
    )
    rule = PolicyRuleCreate(
        code="X1",
        name="登记额1%奖励给卖方",
        rate=D("0.01"),
        base="registered_turnover",
        cap=D("100000.00"),
        per="unit",
        period="year",
        source="test",
    )
    with pytest.raises(PermissionDeniedError):
        subsidies.create_policy_rule(e, world.actor["b1"], rule)
    subsidies.create_policy_rule(e, admin, rule)
    with pytest.raises(ConflictError):
        subsidies.create_policy_rule(e, admin, rule)
    regional = rule.model_copy(
        update={"code": "X2", "region_code": "410100", "rate": D("0.0002"), "cap": None}
    )
    subsidies.create_policy_rule(e, admin, regional)
    listed = subsidies.list_policy_rules(e, admin)
    assert [r["code"] for r in listed if r["code"].startswith("X")] == ["X1", "X2"]
    assert next(r for r in listed if r["code"] == "X2")["region_code"] == "410100"
    with pytest.raises(PermissionDeniedError):
        subsidies.list_policy_rules(e, world.actor["b1"])
    rows = {r["rule_code"]: r for r in subsidies.compute_subsidies(e, year=2025)}
    assert (rows["X1"]["beneficiary_org_id"], rows["X1"]["subsidy"], rows["X1"]["capped"]) == (
        world.org["inst"],
        D("100000.00"),
        True,
    )
    assert "X2" not in rows  # the seller is in Luoyang, outside the rule's jurisdiction
    assert subsidies.compute_subsidies(e, year=2024) == []


def test_reference_targets_and_rules_seed_idempotently(world: World) -> None:
    first = targets.load_reference_targets_and_rules(world.engine)
    assert first["targets_created"] >= 6 and first["rules_created"] == 4
    rules = subsidies.list_policy_rules(world.engine, world.actor["admin"], active_only=True)
    assert [r["code"] for r in rules] == ["M1", "M2", "M3", "M4"] and all(r["source"] for r in rules)
    assert first["targets_skipped"] == []  # relative goals load with their kind
    second = targets.load_reference_targets_and_rules(world.engine)
    assert second["targets_unchanged"] == first["targets_created"] and second["rules_unchanged"] == 4
    assert "targets_created" not in second


def test_target_creation_checks(world: World) -> None:
    e, admin = world.engine, world.actor["admin"]
    period = {"period_start": date(2025, 1, 1), "period_end": date(2025, 12, 31)}
    with pytest.raises(InvalidInputError):
        targets.create_target(
            e, admin, TargetCreate(code="A", name="a", scope="city", metric="contracts", value=D(1), **period)
        )
    with pytest.raises(InvalidInputError):
        targets.create_target(
            e, admin, TargetCreate(code="B", name="b", scope="org", metric="contracts", value=D(1), **period)
        )
    with pytest.raises(InvalidInputError):
        targets.create_target(
            e,
            admin,
            TargetCreate(code="C", name="c", scope="center", metric="brokers", value=D("1.50"), **period),
        )
    with pytest.raises(PermissionDeniedError):
        targets.create_target(
            e,
            world.actor["b1"],
            TargetCreate(code="D", name="d", scope="center", metric="brokers", value=D(5), **period),
        )
    upcoming = targets.create_target(
        e,
        admin,
        TargetCreate(
            code="F",
            name="f",
            scope="center",
            metric="contracts",
            value=D(4),
            period_start=date(2026, 1, 1),
            period_end=date(2026, 12, 31),
        ),
    )
    assert upcoming["code"] == "F"
    row = targets.target_progress(e, today=date(2025, 6, 1))[0]
    assert (row["state"], row["actual"], row["projection"], row["on_track"]) == (
        "upcoming",
        0,
        D("0.00"),
        False,
    )


def test_matched_sub_centre_and_unmeasured_targets(world: World) -> None:
    from datetime import UTC, datetime

    from sqlmodel import Session

    from models import Achievement, Match, MatchStatus, Need, Organization, OrgKind, Target, TargetMetric
    from tests.services.conftest import SEEDED_AT, make_uscc

    e = world.engine
    with Session(e) as s:
        s.add(
            Organization(
                name="分中心",
                kind=OrgKind.SUB_CENTER,
                uscc=make_uscc(99),
                region_code="410300",
                created_at=SEEDED_AT,
            )
        )
        need = Need(
            org_id=world.org["ent"], title="n", description="d", field_code="F02", region_code="410105"
        )
        achs = [
            Achievement(
                org_id=world.org["uni"], title=f"a{i}", abstract="b", field_code="F02", region_code="410100"
            )
            for i in range(3)
        ]
        s.add_all([need, *achs])
        s.flush()
        for ach, status, day in (
            (achs[0], MatchStatus.ACCEPTED, datetime(2025, 3, 1, tzinfo=UTC)),
            (achs[1], MatchStatus.REJECTED, datetime(2025, 3, 1, tzinfo=UTC)),
            (achs[2], MatchStatus.CONTRACTED, datetime(2024, 12, 31, tzinfo=UTC)),  # before the period
        ):
            s.add(
                Match(
                    need_id=need.id or 0,
                    achievement_id=ach.id or 0,
                    score=1,
                    rank=1,
                    engine_version="t",
                    status=status,
                    decided_at=day,
                )
            )
        for code, metric, value in (
            ("MAT", TargetMetric.ACHIEVEMENTS_MATCHED, 4),
            ("SUB", TargetMetric.SUB_CENTERS, 4),
            ("INT", TargetMetric.TT_INSTITUTIONS_INTRODUCED, 1),
        ):
            s.add(
                Target(
                    code=code,
                    name=code,
                    scope="center",
                    region_code="410000",
                    metric=metric,
                    value=D(value),
                    period_start=date(2025, 1, 1),
                    period_end=date(2025, 12, 31),
                )
            )
        s.commit()
    got = {t["code"]: t for t in targets.target_progress(e, today=date(2025, 6, 30))}
    assert (got["MAT"]["actual"], got["MAT"]["percent"]) == (1, D("25.00"))
    assert (got["SUB"]["actual"], got["SUB"]["projection"]) == (1, D("1.00"))
    # introductions are measured from the institution register (services.registry_rules): none yet
    assert (got["INT"]["measured"], got["INT"]["percent"], got["INT"]["on_track"]) == (True, D("0.00"), False)
