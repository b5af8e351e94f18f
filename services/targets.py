"""Targets (the seeds' turnover and platform goals) and their progress, plus seeding of the shipped
targets and subsidy rules.

Progress of a target = its metric measured over ``[period_start, min(today, period_end)]`` within its
scope: ``center`` = everything on the platform; ``province`` / ``city`` / ``county`` = contracts (or
organisations, introductions) whose region lies in the target's region (counties and parks roll up via
the region tree); ``org`` = contracts the organisation is a party to (buyer or seller).
* flows start the period at zero: turnover, technology-transaction and registered amounts, contracts,
  achievements transferred (distinct achievements with a non-cancelled contract signed in the period)
  and achievements matched (distinct achievements whose match a broker accepted in the period);
* stocks count everything existing at the date: active brokers, member units, TT institutions
  (tt_agency organisations), sub-centres (sub_center organisations);
* "introduced" institutions are not recorded in the ledger: such targets report ``measured: False``,
  no percent and never on track.
The projection extends the run rate of the elapsed part of the period to its end:
``start + (actual - start) × total_days / elapsed_days``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, cast

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from data.db import session_scope
from data.reference import is_known_region, load_policy_rules, load_targets
from models import (
    Achievement,
    Broker,
    Match,
    MatchStatus,
    Need,
    Organization,
    OrgKind,
    PolicyBase,
    PolicyPer,
    PolicyRule,
    Target,
    TargetMetric,
)
from models.enums import MONEY_METRICS
from models.schemas import TargetCreate
from models.types import utc_now
from services import audit
from services.actor import SYSTEM, Actor
from services.errors import ConflictError, InvalidInputError, NotFoundError
from services.stats import ZERO, Deal, load_deals, region_label, within

__all__ = ["create_target", "load_reference_targets_and_rules", "target_progress"]

_CENT = Decimal("0.01")
_STOCKS = frozenset(
    {TargetMetric.BROKERS, TargetMetric.MEMBER_UNITS, TargetMetric.TT_INSTITUTIONS, TargetMetric.SUB_CENTERS}
)
UNMEASURED = frozenset({TargetMetric.TT_INSTITUTIONS_INTRODUCED, TargetMetric.RD_INSTITUTIONS_INTRODUCED})
"""Goals the ledger holds no data for (whether an institution was 引进 from outside is not recorded)."""
_REGION_SCOPES = frozenset({"province", "city", "county"})
_ACCEPTED = frozenset(
    {MatchStatus.ACCEPTED, MatchStatus.NEGOTIATING, MatchStatus.CONTRACTED, MatchStatus.FAILED}
)


@dataclass(frozen=True)
class _Unit:
    """A broker or an organisation, for the stock metrics."""

    org_id: int
    region_code: str
    created_on: date


@dataclass(frozen=True)
class _Introduction:
    """A match a broker accepted (对接): the achievement, when, where and between whom."""

    achievement_id: int
    on: date
    region_code: str
    org_ids: tuple[int, int]


@dataclass(frozen=True)
class _Facts:
    deals: list[Deal]
    achievement_of_match: dict[int, int]
    stocks: dict[TargetMetric, list[_Unit]]
    introductions: list[_Introduction]


def _introductions(session: Session) -> list[_Introduction]:
    rows = session.exec(
        select(Match, Need.region_code, Need.org_id, Achievement.org_id)
        .join(Need, col(Need.id) == Match.need_id)
        .join(Achievement, col(Achievement.id) == Match.achievement_id)
        .where(col(Match.status).in_(_ACCEPTED))
    ).all()
    return [
        _Introduction(m.achievement_id, (m.decided_at or m.updated_at).date(), region, (need_org, ach_org))
        for m, region, need_org, ach_org in rows
    ]


def _facts(session: Session) -> _Facts:
    orgs = session.exec(select(Organization)).all()
    org_region = {o.id: o.region_code for o in orgs}
    brokers = session.exec(select(Broker).where(col(Broker.active).is_(True))).all()

    def units(keep: Callable[[Organization], bool]) -> list[_Unit]:
        return [_Unit(o.id or 0, o.region_code, o.created_at.date()) for o in orgs if keep(o)]

    return _Facts(
        deals=load_deals(session),
        achievement_of_match={
            m: a for m, a in session.exec(select(Match.id, Match.achievement_id)).all() if m is not None
        },
        stocks={
            TargetMetric.BROKERS: [
                _Unit(b.org_id, org_region.get(b.org_id, ""), b.created_at.date()) for b in brokers
            ],
            TargetMetric.MEMBER_UNITS: units(lambda o: o.is_member),
            TargetMetric.TT_INSTITUTIONS: units(lambda o: o.kind == OrgKind.TT_AGENCY),
            TargetMetric.SUB_CENTERS: units(lambda o: o.kind == OrgKind.SUB_CENTER),
        },
        introductions=_introductions(session),
    )


def _in_scope(target: Target, region_code: str, org_ids: tuple[int, ...]) -> bool:
    """Whether something at ``region_code`` involving ``org_ids`` falls in the target's scope."""
    if target.scope == "org":
        return target.org_id in org_ids
    if target.scope in _REGION_SCOPES and target.region_code:
        return within(region_code, target.region_code)
    return True


def _measure_deals(facts: _Facts, target: Target, start: date, end: date) -> Decimal:
    def scoped(d: Deal) -> bool:
        return _in_scope(target, d.region_code, (d.buyer_org_id, d.seller_org_id))

    if target.metric == TargetMetric.REGISTERED_TURNOVER:
        registered = (
            d for d in facts.deals if d.registered_on and start <= d.registered_on <= end and scoped(d)
        )
        return sum((d.registered_amount for d in registered), ZERO)
    deals = [d for d in facts.deals if start <= d.signed_on <= end and scoped(d)]
    if target.metric == TargetMetric.CONTRACT_TURNOVER:
        return sum((d.contract_amount for d in deals), ZERO)
    if target.metric == TargetMetric.TECHNOLOGY_TRANSACTION_AMOUNT:
        return sum((d.tech_transaction_amount for d in deals), ZERO)
    if target.metric == TargetMetric.CONTRACTS:
        return Decimal(len(deals))
    achievements = {facts.achievement_of_match.get(d.match_id) for d in deals if d.match_id is not None}
    return Decimal(len(achievements - {None}))


def measure(facts: _Facts, target: Target, start: date, end: date) -> Decimal:
    """The target's metric over ``[start, end]`` (stocks: the level at ``end``)."""
    metric = target.metric
    if metric in UNMEASURED:
        return ZERO
    if metric in _STOCKS:
        stock = facts.stocks[metric]
        return Decimal(
            sum(1 for u in stock if u.created_on <= end and _in_scope(target, u.region_code, (u.org_id,)))
        )
    if metric == TargetMetric.ACHIEVEMENTS_MATCHED:
        matched = {
            i.achievement_id
            for i in facts.introductions
            if start <= i.on <= end and _in_scope(target, i.region_code, i.org_ids)
        }
        return Decimal(len(matched))
    return _measure_deals(facts, target, start, end)


def _progress(facts: _Facts, target: Target, today: date) -> dict[str, Any]:
    total_days = (target.period_end - target.period_start).days + 1
    as_of = min(today, target.period_end)
    elapsed = max((as_of - target.period_start).days + 1, 0)
    before_start = target.period_start - timedelta(days=1)
    start_level = measure(facts, target, before_start, before_start) if target.metric in _STOCKS else ZERO
    actual = measure(facts, target, target.period_start, as_of) if elapsed else start_level
    projection = start_level + (actual - start_level) * total_days / elapsed if elapsed else start_level
    value = Decimal(target.value)
    measured = target.metric not in UNMEASURED
    is_money = target.metric in MONEY_METRICS
    return {
        "code": target.code,
        "name": target.name,
        "scope": target.scope,
        "region_code": target.region_code,
        "region_name": region_label(target.region_code) if target.region_code else None,
        "org_id": target.org_id,
        "metric": target.metric.value,
        "unit": "yuan" if is_money else "count",
        "period_start": target.period_start,
        "period_end": target.period_end,
        "as_of": as_of,
        "state": "upcoming"
        if today < target.period_start
        else ("ended" if today > target.period_end else "running"),
        "value": value if is_money else int(value),
        "baseline": target.baseline,
        "actual": actual.quantize(_CENT) if is_money else int(actual),
        "percent": (actual * 100 / value).quantize(_CENT) if value and measured else None,
        "projection": projection.quantize(_CENT),
        "on_track": measured and projection >= value,
        "measured": measured,
        "source": target.source,
    }


def target_progress(db: Engine, *, today: date | None = None) -> list[dict[str, Any]]:
    """Every target with actual, percent, run-rate projection to the period end and an on-track flag."""
    day = today or utc_now().date()
    with Session(db) as session:
        targets = session.exec(select(Target).order_by(col(Target.code))).all()
        facts = _facts(session)
    return [_progress(facts, t, day) for t in targets]


def _check_target(session: Session, data: TargetCreate) -> None:
    if data.scope in _REGION_SCOPES and data.region_code is None:
        raise InvalidInputError(f"a {data.scope} target needs a region_code", code="region_required")
    if data.region_code is not None and not is_known_region(data.region_code):
        raise InvalidInputError(f"unknown region code {data.region_code!r}", code="unknown_region_code")
    if data.scope == "org":
        if data.org_id is None:
            raise InvalidInputError("an org target needs an org_id", code="org_required")
        if session.get(Organization, data.org_id) is None:
            raise NotFoundError(f"organisation {data.org_id} not found")
    if data.metric not in MONEY_METRICS and data.value != data.value.to_integral_value():
        raise InvalidInputError("a count target needs a whole number", code="invalid_amount")


def create_target(db: Engine, actor: Actor, data: TargetCreate) -> dict[str, Any]:
    """Add a target (admin only)."""
    actor.require()
    with session_scope(db) as session:
        if session.exec(select(Target.id).where(Target.code == data.code)).first() is not None:
            raise ConflictError(f"target code {data.code!r} exists", code="duplicate_code")
        _check_target(session, data)
        target = Target(**data.model_dump())
        session.add(target)
        session.flush()
        audit.record(session, actor, "target", target.id or 0, "create", after=audit.snapshot(target))
        return audit.snapshot(target) or {}


def _upsert(session: Session, model: type[Target] | type[PolicyRule], values: dict[str, Any]) -> str:
    """Insert or update one reference row by code; returns what happened."""
    entity = "target" if model is Target else "policy_rule"
    found = session.exec(select(model).where(model.code == values["code"])).first()
    row = cast(Target | PolicyRule | None, found)
    if row is None:
        new: Target | PolicyRule = model(**values)
        session.add(new)
        session.flush()
        audit.record(session, SYSTEM, entity, new.id or 0, "seed", after=audit.snapshot(new))
        return "created"
    changed = {name: value for name, value in values.items() if getattr(row, name) != value}
    if not changed:
        return "unchanged"
    before = audit.snapshot(row, tuple(changed))
    for name, value in changed.items():
        setattr(row, name, value)
    after = audit.snapshot(row, tuple(changed))
    session.add(row)
    audit.record(session, SYSTEM, entity, row.id or 0, "seed", before=before, after=after)
    return "updated"


def _reference_target_values() -> tuple[list[dict[str, Any]], list[str]]:
    rows, skipped = [], []
    metrics = {m.value for m in TargetMetric}
    for t in load_targets():
        if t.value is None or t.metric not in metrics:
            skipped.append(t.code)
            continue
        rows.append(
            {
                "code": t.code,
                "name": t.label_zh,
                "scope": t.scope,
                "region_code": t.region,
                "metric": TargetMetric(t.metric),
                "period_start": t.period_start,
                "period_end": t.period_end,
                "value": Decimal(t.value).quantize(_CENT),
                "baseline": t.baseline_value,
                "source": ", ".join(t.source)[:200],
            }
        )
    return rows, skipped


def _reference_rule_values() -> list[dict[str, Any]]:
    return [
        {
            "code": r.code,
            "name": r.name,
            "rate": r.rate,
            "base": PolicyBase(r.base),
            "cap": r.cap,
            "per": PolicyPer(r.per),
            "period": r.period,
            "region_code": r.jurisdiction,
            "source": ", ".join(r.source)[:200],
        }
        for r in load_policy_rules()
    ]


def load_reference_targets_and_rules(db: Engine) -> dict[str, Any]:
    """Seed targets.json and policy_rules.json (idempotent upsert by code).

    Targets the schema cannot hold are skipped and listed: relative goals without a value (翻一番,
    above the provincial average) and any metric outside `TargetMetric`.
    """
    counts: dict[str, int] = {}
    with session_scope(db) as session:
        targets, skipped = _reference_target_values()
        for values in targets:
            outcome = _upsert(session, Target, values)
            counts[f"targets_{outcome}"] = counts.get(f"targets_{outcome}", 0) + 1
        for values in _reference_rule_values():
            outcome = _upsert(session, PolicyRule, values)
            counts[f"rules_{outcome}"] = counts.get(f"rules_{outcome}", 0) + 1
    return {**counts, "targets_skipped": skipped}
