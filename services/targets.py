"""Targets (the seeds' turnover and platform goals), their progress, and seeding of the shipped targets
and subsidy rules.

A target's metric is measured within its scope: ``center`` = everything on the platform; ``province`` /
``city`` / ``county`` = contracts (organisations, registry entries) whose region lies in the target's
region (counties and parks roll up via the region tree); ``org`` = contracts the organisation is party to.
* flows start the period at zero: turnover, technology-transaction and registered amounts, contracts,
  achievements matched (accepted by a broker), and the registries' flows (institutions introduced or
  cultivated, achievements transferred and influential ones: services.registries says how each counts);
* stocks count what stands on a day: brokers and member units by the registries' rules, sub-centres.

Three kinds of goal, each computed from the ledger's yearly series of the metric:
* ``absolute``: ``value`` over ``[period_start, as_of]``; the projection extends the run rate of the
  elapsed part to the period end (``start + (actual - start) × total_days / elapsed_days``);
* ``baseline_multiple`` (翻一番): the goal is ``factor`` × the full ``baseline_year``'s value; the actual is
  the value of the period's latest year so far (year to date, projected to the full year);
* ``relative_growth`` (高于全省平均水平): the actual is the region's average annual growth from
  ``baseline_year`` (default: the year before the period) to the period's latest year so far, the goal is
  the same growth of ``reference_region_code``; a year in progress is projected to the full year.
A target whose period has ended is ``achieved`` or ``missed``; a running one ``on_track`` or ``behind``.
``current`` is the same rule measured from the period start to today, also after the period ended (an
absolute goal's figure to date; for the other kinds it equals ``actual``).
Retired targets keep their rows and audit trail but are no longer listed.
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
    Match,
    MatchStatus,
    Need,
    Organization,
    OrgKind,
    PolicyBase,
    PolicyPer,
    PolicyRule,
    Target,
    TargetKind,
    TargetMetric,
)
from models.enums import MONEY_METRICS
from models.registry_schemas import TargetUpdate
from models.schemas import TargetCreate
from models.types import utc_now
from services import audit
from services.actor import SYSTEM, Actor
from services.errors import ConflictError, InvalidInputError, NotFoundError
from services.registry_rules import RegistryFacts, load_registry_facts
from services.stats import ZERO, Deal, load_deals, region_label, within

__all__ = [
    "create_target",
    "load_reference_targets_and_rules",
    "retire_target",
    "target_progress",
    "update_target",
]

_CENT = Decimal("0.01")
_REGISTRY_STOCKS = frozenset({TargetMetric.BROKERS, TargetMetric.MEMBER_UNITS})
_REGISTRY_FLOWS = frozenset(
    {
        TargetMetric.TT_INSTITUTIONS,
        TargetMetric.TT_INSTITUTIONS_INTRODUCED,
        TargetMetric.RD_INSTITUTIONS_INTRODUCED,
        TargetMetric.ACHIEVEMENTS_TRANSFERRED,
        TargetMetric.INFLUENTIAL_ACHIEVEMENTS,
    }
)
_STOCKS = _REGISTRY_STOCKS | {TargetMetric.SUB_CENTERS}
_SERIES_METRICS = MONEY_METRICS | {TargetMetric.CONTRACTS}
"""Metrics with a yearly series a baseline multiple or a growth comparison can be computed on."""
_REGION_SCOPES = frozenset({"province", "city", "county"})
_ACCEPTED = frozenset(
    {MatchStatus.ACCEPTED, MatchStatus.NEGOTIATING, MatchStatus.CONTRACTED, MatchStatus.FAILED}
)


@dataclass(frozen=True)
class Scope:
    """Where a measurement looks: the whole platform, a region, or one organisation's contracts."""

    scope: str
    region_code: str | None
    org_id: int | None

    def covers(self, region_code: str, org_ids: tuple[int, ...]) -> bool:
        if self.scope == "org":
            return self.org_id in org_ids
        if self.scope in _REGION_SCOPES and self.region_code:
            return within(region_code, self.region_code)
        return True


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
    sub_centers: list[tuple[int, str, date]]
    introductions: list[_Introduction]
    registries: RegistryFacts


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
    sub_centers = session.exec(select(Organization).where(Organization.kind == OrgKind.SUB_CENTER)).all()
    return _Facts(
        deals=load_deals(session),
        sub_centers=[(o.id or 0, o.region_code, o.created_at.date()) for o in sub_centers],
        introductions=_introductions(session),
        registries=load_registry_facts(session),
    )


def _measure_deals(facts: _Facts, metric: TargetMetric, where: Scope, start: date, end: date) -> Decimal:
    def scoped(d: Deal) -> bool:
        return where.covers(d.region_code, (d.buyer_org_id, d.seller_org_id))

    if metric == TargetMetric.REGISTERED_TURNOVER:
        registered = (
            d for d in facts.deals if d.registered_on and start <= d.registered_on <= end and scoped(d)
        )
        return sum((d.registered_amount for d in registered), ZERO)
    deals = [d for d in facts.deals if start <= d.signed_on <= end and scoped(d)]
    if metric == TargetMetric.CONTRACT_TURNOVER:
        return sum((d.contract_amount for d in deals), ZERO)
    if metric == TargetMetric.TECHNOLOGY_TRANSACTION_AMOUNT:
        return sum((d.tech_transaction_amount for d in deals), ZERO)
    return Decimal(len(deals))


def measure(facts: _Facts, metric: TargetMetric, where: Scope, start: date, end: date) -> Decimal:
    """The metric over ``[start, end]`` in a scope (stocks: the level on ``end``)."""
    keep: Callable[[Any], bool] = lambda c: where.covers(c.region_code, c.org_ids)  # noqa: E731
    if metric in _REGISTRY_STOCKS:
        return Decimal(facts.registries.stock(metric.value, end, keep))
    if metric in _REGISTRY_FLOWS:
        return Decimal(facts.registries.flow(metric.value, start, end, keep))
    if metric == TargetMetric.SUB_CENTERS:
        return Decimal(
            sum(1 for oid, region, on in facts.sub_centers if on <= end and where.covers(region, (oid,)))
        )
    if metric == TargetMetric.ACHIEVEMENTS_MATCHED:
        matched = {
            i.achievement_id
            for i in facts.introductions
            if start <= i.on <= end and where.covers(i.region_code, i.org_ids)
        }
        return Decimal(len(matched))
    return _measure_deals(facts, metric, where, start, end)


def _scope(target: Target) -> Scope:
    return Scope(target.scope, target.region_code, target.org_id)


def _year_value(
    facts: _Facts, target: Target, where: Scope, year: int, today: date
) -> tuple[Decimal, Decimal]:
    """A year's value so far and its projection to the full year (equal for a finished year)."""
    first, last = date(year, 1, 1), date(year, 12, 31)
    as_of = min(today, last)
    if as_of < first:
        return ZERO, ZERO
    so_far = measure(facts, target.metric, where, first, as_of)
    elapsed = (as_of - first).days + 1
    return so_far, so_far * ((last - first).days + 1) / elapsed


def _growth(start_value: Decimal, end_value: Decimal, years: int) -> Decimal | None:
    """Average annual growth in percent, or None when the start year is empty."""
    if start_value <= 0 or years <= 0:
        return None
    ratio = end_value / start_value
    rate = ratio ** (Decimal(1) / Decimal(years)) - 1 if ratio > 0 else Decimal(-1)
    return (rate * 100).quantize(_CENT)


def _verdict(
    state: str, actual: Decimal | None, goal: Decimal | None, projection: Decimal | None, gt: bool
) -> str:
    if state == "upcoming":
        return "upcoming"
    if goal is None or actual is None:
        return "unmeasured"

    def meets(x: Decimal) -> bool:
        return x > goal if gt else x >= goal

    if state == "ended":
        return "achieved" if meets(actual) else "missed"
    return "on_track" if projection is not None and meets(projection) else "behind"


def _state(target: Target, today: date) -> str:
    if today < target.period_start:
        return "upcoming"
    return "ended" if today > target.period_end else "running"


def _absolute(facts: _Facts, target: Target, today: date) -> dict[str, Any]:
    where = _scope(target)
    total_days = (target.period_end - target.period_start).days + 1
    as_of = min(today, target.period_end)
    elapsed = max((as_of - target.period_start).days + 1, 0)
    before_start = target.period_start - timedelta(days=1)
    metric = target.metric
    start_level = measure(facts, metric, where, before_start, before_start) if metric in _STOCKS else ZERO
    actual = measure(facts, metric, where, target.period_start, as_of) if elapsed else start_level
    projection = start_level + (actual - start_level) * total_days / elapsed if elapsed else start_level
    # to date: the same rule carried past the period end (the "1242" goals name no year; the hall shows this)
    current = (
        measure(facts, metric, where, target.period_start, today)
        if today >= target.period_start
        else start_level
    )
    return {
        "value": target.value,
        "baseline": target.baseline,
        "actual": actual,
        "projection": projection,
        "current": current,
    }


def _latest_year(target: Target, today: date) -> int:
    return max(min(today.year, target.period_end.year), target.period_start.year)


def _baseline_multiple(facts: _Facts, target: Target, today: date) -> dict[str, Any]:
    where = _scope(target)
    base_year = target.baseline_year or target.period_start.year - 1
    base, _ = _year_value(facts, target, where, base_year, today)
    actual, projection = _year_value(facts, target, where, _latest_year(target, today), today)
    goal = base * (target.factor or Decimal(1)) if base > 0 else None
    return {"value": goal, "baseline": base, "actual": actual, "projection": projection}


def _relative_growth(facts: _Facts, target: Target, today: date) -> dict[str, Any]:
    base_year = target.baseline_year or target.period_start.year - 1
    last = _latest_year(target, today)
    reference = Scope("province", target.reference_region_code, None)

    def growth(where: Scope) -> tuple[Decimal, Decimal | None]:
        base, _ = _year_value(facts, target, where, base_year, today)
        _, projected = _year_value(facts, target, where, last, today)
        return base, _growth(base, projected, last - base_year)

    base, own = growth(_scope(target))
    _, other = growth(reference)
    return {"value": other, "baseline": base, "actual": own, "projection": own}


_KINDS = {
    TargetKind.ABSOLUTE: _absolute,
    TargetKind.BASELINE_MULTIPLE: _baseline_multiple,
    TargetKind.RELATIVE_GROWTH: _relative_growth,
}


def _shown(value: Decimal | None, unit: str) -> int | Decimal | None:
    if value is None:
        return None
    return int(value) if unit == "count" else value.quantize(_CENT)


def _progress(facts: _Facts, target: Target, today: date) -> dict[str, Any]:
    state = _state(target, today)
    figures = _KINDS[target.kind](facts, target, today)
    relative = target.kind == TargetKind.RELATIVE_GROWTH
    unit = "percent" if relative else ("yuan" if target.metric in MONEY_METRICS else "count")
    goal, actual, projection = figures["value"], figures["actual"], figures["projection"]
    goal_d = None if goal is None else Decimal(goal)
    outcome = _verdict(state, actual, goal_d, projection, target.comparator == "gt")
    percent = None
    if not relative and goal_d and actual is not None:
        percent = (Decimal(actual) * 100 / goal_d).quantize(_CENT)
    return {
        "id": target.id,
        "code": target.code,
        "name": target.name,
        "scope": target.scope,
        "region_code": target.region_code,
        "region_name": region_label(target.region_code) if target.region_code else None,
        "org_id": target.org_id,
        "metric": target.metric.value,
        "kind": target.kind.value,
        "comparator": target.comparator,
        "factor": target.factor,
        "baseline_year": target.baseline_year,
        "reference_region_code": target.reference_region_code,
        "reference_region_name": region_label(target.reference_region_code)
        if target.reference_region_code
        else None,
        "unit": unit,
        "period_start": target.period_start,
        "period_end": target.period_end,
        "as_of": min(today, target.period_end),
        "state": state,
        "value": _shown(goal_d, unit),
        "baseline": _shown(figures["baseline"], "yuan" if unit == "percent" else unit),
        "actual": _shown(actual, unit),
        "current": _shown(figures.get("current", actual), unit),
        "percent": percent,
        "projection": None if projection is None else Decimal(projection).quantize(_CENT),
        "outcome": outcome,
        "on_track": outcome in ("achieved", "on_track"),
        "measured": goal_d is not None and actual is not None,
        "source": target.source,
        "quote": target.quote,
    }


def target_progress(
    db: Engine, *, today: date | None = None, include_retired: bool = False
) -> list[dict[str, Any]]:
    """Every (unretired) target with goal, actual, percent, run-rate projection and outcome."""
    day = today or utc_now().date()
    with Session(db) as session:
        query = select(Target).order_by(col(Target.code))
        if not include_retired:
            query = query.where(col(Target.retired_at).is_(None))
        targets = session.exec(query).all()
        facts = _facts(session)
    return [_progress(facts, t, day) for t in targets]


def _check_target(session: Session, data: TargetCreate) -> None:
    if data.scope in _REGION_SCOPES and data.region_code is None:
        raise InvalidInputError(f"“{data.scope}”范围的目标须填写地区代码", code="region_required")
    for code in (data.region_code, data.reference_region_code):
        if code is not None and not is_known_region(code):
            raise InvalidInputError(f"未知的地区代码 {code!r}", code="unknown_region_code")
    if data.scope == "org":
        if data.org_id is None:
            raise InvalidInputError("单位目标须填写单位编号", code="org_required")
        if session.get(Organization, data.org_id) is None:
            raise NotFoundError(f"未找到单位 {data.org_id}")
    if data.kind == TargetKind.ABSOLUTE:
        if data.value is None:
            raise InvalidInputError("绝对值目标须填写目标值", code="value_required")
        if data.metric not in MONEY_METRICS and data.value != data.value.to_integral_value():
            raise InvalidInputError("计数类目标须为整数", code="invalid_amount")
        return
    if data.metric not in _SERIES_METRICS:
        raise InvalidInputError("倍数和相对增速目标只适用于金额或合同数指标", code="kind_needs_series")
    if data.kind == TargetKind.BASELINE_MULTIPLE:
        if data.factor is None or data.baseline_year is None:
            raise InvalidInputError("倍数目标须填写倍数和基期年份", code="factor_required")
        if data.baseline_year >= data.period_end.year:
            raise InvalidInputError("基期年份须早于目标截止年份", code="invalid_baseline_year")
    if data.kind == TargetKind.RELATIVE_GROWTH:
        if data.reference_region_code is None or data.scope not in _REGION_SCOPES:
            raise InvalidInputError("相对增速目标须填写本地区和对比地区", code="reference_required")
        if data.baseline_year is not None and data.baseline_year >= data.period_end.year:
            raise InvalidInputError("基期年份须早于目标截止年份", code="invalid_baseline_year")


def create_target(db: Engine, actor: Actor, data: TargetCreate) -> dict[str, Any]:
    """Add a target (admin only)."""
    actor.require()
    with session_scope(db) as session:
        if session.exec(select(Target.id).where(Target.code == data.code)).first() is not None:
            raise ConflictError(f"目标编号 {data.code!r} 已存在", code="duplicate_code")
        _check_target(session, data)
        target = Target(**data.model_dump())
        session.add(target)
        session.flush()
        audit.record(session, actor, "target", target.id or 0, "create", after=audit.snapshot(target))
        return audit.snapshot(target) or {}


def _target(session: Session, target_id: int) -> Target:
    target = session.get(Target, target_id)
    if target is None:
        raise NotFoundError(f"未找到目标 {target_id}")
    return target


def update_target(db: Engine, actor: Actor, target_id: int, data: TargetUpdate) -> dict[str, Any]:
    """Change a target (admin only); the changed target is checked as a whole, as on creation."""
    actor.require()
    changes = data.model_dump(exclude_unset=True)
    with session_scope(db) as session:
        target = _target(session, target_id)
        if target.retired_at is not None:
            raise ConflictError("已停用的目标不能修改", code="invalid_transition")
        fields = set(TargetCreate.model_fields)
        merged = {**target.model_dump(include=fields), **changes}
        try:
            checked = TargetCreate.model_validate(merged)
        except ValueError as exc:
            raise InvalidInputError(f"修改后的目标无效：{exc}", code="validation_error") from exc
        _check_target(session, checked)
        before = audit.snapshot(target, tuple(changes))
        for name, value in changes.items():
            setattr(target, name, value)
        session.add(target)
        audit.record(
            session,
            actor,
            "target",
            target_id,
            "update",
            before=before,
            after=audit.snapshot(target, tuple(changes)),
        )
        return audit.snapshot(target) or {}


def retire_target(db: Engine, actor: Actor, target_id: int) -> dict[str, Any]:
    """Stop showing a target (admin only); its row and history stay."""
    actor.require()
    with session_scope(db) as session:
        target = _target(session, target_id)
        if target.retired_at is not None:
            raise ConflictError("该目标已停用", code="invalid_transition")
        target.retired_at = utc_now()
        session.add(target)
        audit.record(
            session, actor, "target", target_id, "retire", after=audit.snapshot(target, ("retired_at",))
        )
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


def _reference_kind(t: Any) -> dict[str, Any]:
    """How a shipped target's goal is stated: 翻一番 on a baseline year, growth above the province, or
    a plain value."""
    if t.relative_to == "baseline" and t.growth_factor is not None:
        base_year = t.baseline_date.year if t.baseline_date else t.period_start.year - 1
        return {"kind": TargetKind.BASELINE_MULTIPLE, "factor": t.growth_factor, "baseline_year": base_year}
    if t.relative_to == "province_average_growth":
        return {"kind": TargetKind.RELATIVE_GROWTH, "reference_region_code": "410000", "baseline_year": None}
    return {"kind": TargetKind.ABSOLUTE}


def _reference_target_values() -> tuple[list[dict[str, Any]], list[str]]:
    rows, skipped = [], []
    metrics = {m.value for m in TargetMetric}
    for t in load_targets():
        kind = _reference_kind(t)
        if t.metric not in metrics or (kind["kind"] == TargetKind.ABSOLUTE and t.value is None):
            skipped.append(t.code)
            continue
        rows.append(
            {
                "code": t.code,
                "name": t.label_zh,
                "scope": t.scope,
                "region_code": t.region,
                "metric": TargetMetric(t.metric),
                "comparator": "gt" if t.comparator == "gt" else "ge",
                "period_start": t.period_start,
                "period_end": t.period_end,
                "value": None if t.value is None else Decimal(t.value).quantize(_CENT),
                "baseline": t.baseline_value,
                "source": ", ".join(t.source)[:200],
                "quote": t.quote[:500] or None,
                **kind,
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

    Relative goals are loaded with their kind (翻一番 → baseline multiple, above the provincial average
    → relative growth); targets on a metric outside `TargetMetric` are skipped and listed.
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
