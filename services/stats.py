"""Turnover statistics (技术合同成交额), the matching funnel and live totals.

Conventions (one place, so dashboards, exports and targets agree):
* a contract counts on its signing date; cancelled contracts are excluded everywhere;
* which live contract counts in which total — 合同成交额, 技术交易额, 登记成交额 — is decided by ONE
  predicate, `counts_in`; extend it there (and nowhere else) when a new rule arrives;
* ``registered_amount`` (登记成交额) is the amount of contracts whose 认定结论 is 登记; not-registered
  (不予登记) and not-yet-registered or returned (退回补正) contracts add nothing to it;
* ``tech_transaction_amount`` (技术交易额) is the 技术性收入 the registrar recognised once a contract is
  registered, the parties' declared amount while registration is pending, and nothing for a contract
  refused registration (it is not a technology contract);
* a contract's region is the need's (buyer's) region; ``city`` rolls counties and parks up to their city;
* ``org`` and ``org_kind`` are the seller side (技术输出方), the way technology-market statistics count
  a unit's turnover; the same choice drives subsidy rule M2;
* money is Decimal yuan with two decimals; rows are plain dicts (the API serialises Decimal as strings).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from data.reference import (
    field_name,
    is_known_field,
    is_known_region,
    load_sub_centers,
    region_ancestors,
    region_city,
    region_name,
)
from matcher.filters import region_prefix
from models import (
    Achievement,
    Broker,
    Contract,
    ContractStatus,
    Match,
    MatchStatus,
    Need,
    Organization,
    OrgKind,
    Payment,
    PostingStatus,
    Registration,
    RegistrationConclusion,
    User,
)
from services.errors import InvalidInputError
from services.registry_rules import load_registry_facts

__all__ = [
    "GROUPS",
    "ORG_KIND_LABELS",
    "Deal",
    "Total",
    "amount_in",
    "counts_in",
    "field_label",
    "funnel",
    "load_deals",
    "period_bounds",
    "region_label",
    "totals",
    "turnover",
    "within",
]

ZERO = Decimal("0.00")
CENTER_KEY = "center"
CENTER_LABEL = "郑州中心本部"
ORG_KIND_LABELS = {
    OrgKind.ENTERPRISE: "企业",
    OrgKind.UNIVERSITY: "高等院校",
    OrgKind.INSTITUTE: "科研院所",
    OrgKind.NEW_RD_INSTITUTION: "新型研发机构",
    OrgKind.TT_AGENCY: "技术转移机构",
    OrgKind.REGISTRATION_AGENCY: "技术合同登记机构",
    OrgKind.SUB_CENTER: "分中心",
}
GROUPS = (
    "year",
    "quarter",
    "month",
    "city",
    "field",
    "contract_type",
    "org",
    "org_kind",
    "broker",
    "sub_center",
    "open_call",
)
_TIME_GROUPS = frozenset({"year", "quarter", "month"})


class Total(StrEnum):
    """The totals technology-market statistics report."""

    CONTRACT = "contract_amount"  # 合同成交额
    TECH_TRANSACTION = "tech_transaction_amount"  # 技术交易额
    REGISTERED = "registered_amount"  # 登记成交额


@dataclass(frozen=True)
class Deal:
    """One non-cancelled contract with what statistics group and sum by. The three amounts a total
    sums (``contract_amount``, ``tech_transaction_amount``, ``registered_amount``) are what the deal
    contributes to that total under `counts_in`; the raw figures are kept beside them."""

    id: int
    signed_on: date
    region_code: str
    field_code: str
    contract_type: str
    buyer_org_id: int
    seller_org_id: int
    seller_name: str
    seller_kind: OrgKind
    broker_id: int | None
    broker_name: str | None
    sub_center_code: str | None
    match_id: int | None
    is_open_call: bool
    signed_amount: Decimal  # 合同成交额 as signed
    declared_tech_amount: Decimal  # 技术交易额 the parties declared
    conclusion: RegistrationConclusion | None  # 认定结论; None = not submitted yet
    registration_amount: Decimal  # 登记成交额 recognised (zero unless 登记)
    tech_income: Decimal  # 技术性收入 recognised (zero unless 登记)
    registered_on: date | None  # the date of 登记 (None unless registered)
    registrar_org_id: int | None

    @property
    def contract_amount(self) -> Decimal:
        return amount_in(self, Total.CONTRACT)

    @property
    def tech_transaction_amount(self) -> Decimal:
        return amount_in(self, Total.TECH_TRANSACTION)

    @property
    def registered_amount(self) -> Decimal:
        return amount_in(self, Total.REGISTERED)


def counts_in(deal: Deal, total: Total) -> bool:
    """THE rule deciding whether a live contract counts in a total (and in its contract count).

    合同成交额: every live contract signed through the platform. 技术交易额: all but those the registrar
    refused (不予登记). 登记成交额: only those registered (认定结论 登记).
    """
    if total is Total.CONTRACT:
        return True
    if total is Total.TECH_TRANSACTION:
        return deal.conclusion != RegistrationConclusion.NOT_REGISTERED
    return deal.conclusion == RegistrationConclusion.REGISTERED


def amount_in(deal: Deal, total: Total) -> Decimal:
    """What the deal adds to a total: zero unless `counts_in`; 技术交易额 is the recognised 技术性收入
    once registered, the declared amount before."""
    if not counts_in(deal, total):
        return ZERO
    if total is Total.CONTRACT:
        return deal.signed_amount
    if total is Total.REGISTERED:
        return deal.registration_amount
    registered = deal.conclusion == RegistrationConclusion.REGISTERED
    return deal.tech_income if registered else deal.declared_tech_amount


def field_label(code: str) -> str:
    return field_name(code) if is_known_field(code) else code


def region_label(code: str) -> str:
    return region_name(code) if is_known_region(code) else code


def within(code: str, scope: str) -> bool:
    """True if region ``code`` lies in region ``scope`` (itself, a county of a city, a park of a city…)."""
    if is_known_region(code) and is_known_region(scope):
        return scope in region_ancestors(code)
    return code.startswith(region_prefix(scope))


def period_bounds(year: int | None, start: date | None, end: date | None) -> tuple[date | None, date | None]:
    """The inclusive date window a year and/or explicit start and end describe."""
    lo, hi = start, end
    if year is not None:
        lo = max(lo, date(year, 1, 1)) if lo else date(year, 1, 1)
        hi = min(hi, date(year, 12, 31)) if hi else date(year, 12, 31)
    if lo is not None and hi is not None and lo > hi:
        raise InvalidInputError("the period starts after it ends", code="invalid_period")
    return lo, hi


def load_deals(
    session: Session,
    *,
    start: date | None = None,
    end: date | None = None,
    field_code: str | None = None,
    region_code: str | None = None,
) -> list[Deal]:
    """Non-cancelled contracts signed in ``[start, end]`` (inclusive), optionally in a field and region."""
    seller = aliased(Organization)
    query = (
        select(Contract, seller, Registration, User.display_name)
        .join(seller, col(seller.id) == Contract.seller_org_id)
        .outerjoin(Registration, col(Registration.contract_id) == Contract.id)
        .outerjoin(Broker, col(Broker.id) == Contract.broker_id)
        .outerjoin(User, col(User.id) == Broker.user_id)
        .where(Contract.status != ContractStatus.CANCELLED)
    )
    if start is not None:
        query = query.where(col(Contract.signed_on) >= start)
    if end is not None:
        query = query.where(col(Contract.signed_on) <= end)
    if field_code:
        query = query.where(col(Contract.field_code).startswith(field_code))
    deals = [_deal(c, s, r, b) for c, s, r, b in session.exec(query).all()]
    return [d for d in deals if region_code is None or within(d.region_code, region_code)]


def _deal(
    c: Contract, seller: Organization, registration: Registration | None, broker_name: str | None
) -> Deal:
    done = (
        registration
        if registration is not None and registration.conclusion == RegistrationConclusion.REGISTERED
        else None
    )
    return Deal(
        id=c.id or 0,
        signed_on=c.signed_on,
        region_code=c.region_code,
        field_code=c.field_code,
        contract_type=c.contract_type.value,
        buyer_org_id=c.buyer_org_id,
        seller_org_id=c.seller_org_id,
        seller_name=seller.name,
        seller_kind=seller.kind,
        broker_id=c.broker_id,
        broker_name=broker_name,
        sub_center_code=c.sub_center_code,
        match_id=c.match_id,
        is_open_call=c.is_open_call,
        signed_amount=Decimal(c.contract_amount),
        declared_tech_amount=Decimal(c.tech_transaction_amount),
        conclusion=registration.conclusion if registration else None,
        registration_amount=Decimal(done.registered_amount) if done else ZERO,
        tech_income=Decimal(done.tech_income) if done else ZERO,
        registered_on=done.registered_on if done else None,
        registrar_org_id=registration.registrar_org_id if registration else None,
    )


def _sub_center_names() -> dict[str, str]:
    return {c.code: c.name for c in load_sub_centers()}


def _city(code: str) -> str:
    city = region_city(code) if is_known_region(code) else None
    return city or code


_KEYS: dict[str, Callable[[Deal], tuple[str, str]]] = {
    "year": lambda d: (f"{d.signed_on.year}", f"{d.signed_on.year}年"),
    "quarter": lambda d: (
        f"{d.signed_on.year}-Q{(d.signed_on.month - 1) // 3 + 1}",
        f"{d.signed_on.year}年第{(d.signed_on.month - 1) // 3 + 1}季度",
    ),
    "month": lambda d: (f"{d.signed_on:%Y-%m}", f"{d.signed_on.year}年{d.signed_on.month}月"),
    "city": lambda d: (_city(d.region_code), region_label(_city(d.region_code))),
    "field": lambda d: (d.field_code.split(".")[0], field_label(d.field_code.split(".")[0])),
    "contract_type": lambda d: (d.contract_type, d.contract_type),
    "org": lambda d: (str(d.seller_org_id), d.seller_name),
    "org_kind": lambda d: (d.seller_kind.value, ORG_KIND_LABELS.get(d.seller_kind, d.seller_kind.value)),
    "broker": lambda d: (
        ("none", "无经纪人") if d.broker_id is None else (str(d.broker_id), d.broker_name or "")
    ),
    "sub_center": lambda d: (
        (CENTER_KEY, CENTER_LABEL)
        if d.sub_center_code is None
        else (d.sub_center_code, _sub_center_names().get(d.sub_center_code, d.sub_center_code))
    ),
    "open_call": lambda d: ("open_call", "揭榜挂帅") if d.is_open_call else ("other", "其他合同"),
}


def aggregate(deals: Iterable[Deal], group_by: str) -> list[dict[str, Any]]:
    """Group deals; time groups sort by period, the others by contract amount (largest first)."""
    if group_by not in _KEYS:
        raise InvalidInputError(f"group_by must be one of {', '.join(GROUPS)}", code="invalid_group_by")
    rows: dict[str, dict[str, Any]] = {}
    for deal in deals:
        key, label = _KEYS[group_by](deal)
        row = rows.setdefault(key, _empty_row(key, label))
        row["contracts"] += counts_in(deal, Total.CONTRACT)
        row["contract_amount"] += deal.contract_amount
        row["registered_amount"] += deal.registered_amount
        row["tech_transaction_amount"] += deal.tech_transaction_amount
    if group_by in _TIME_GROUPS:
        return [rows[k] for k in sorted(rows)]
    return sorted(rows.values(), key=lambda r: (-r["contract_amount"], r["key"]))


def _empty_row(key: str, label: str) -> dict[str, Any]:
    return {
        "key": key,
        "label": label,
        "contracts": 0,
        "contract_amount": ZERO,
        "registered_amount": ZERO,
        "tech_transaction_amount": ZERO,
    }


def turnover(
    db: Engine,
    *,
    group_by: str,
    year: int | None = None,
    start: date | None = None,
    end: date | None = None,
    field_code: str | None = None,
    region_code: str | None = None,
) -> list[dict[str, Any]]:
    """Contract turnover grouped by a period, place, field, contract type, organisation or broker."""
    if group_by not in _KEYS:
        raise InvalidInputError(f"group_by must be one of {', '.join(GROUPS)}", code="invalid_group_by")
    lo, hi = period_bounds(year, start, end)
    with Session(db) as session:
        deals = load_deals(session, start=lo, end=hi, field_code=field_code, region_code=region_code)
    return aggregate(deals, group_by)


_FUNNEL_STAGES: tuple[tuple[str, str, frozenset[MatchStatus]], ...] = (
    ("suggested", "推荐", frozenset(MatchStatus)),
    (
        "accepted",
        "经纪人通过",
        frozenset(
            {MatchStatus.ACCEPTED, MatchStatus.NEGOTIATING, MatchStatus.CONTRACTED, MatchStatus.FAILED}
        ),
    ),
    ("negotiating", "洽谈", frozenset({MatchStatus.NEGOTIATING, MatchStatus.CONTRACTED, MatchStatus.FAILED})),
    ("contracted", "签约", frozenset({MatchStatus.CONTRACTED})),
)


def funnel(
    db: Engine,
    *,
    year: int | None = None,
    start: date | None = None,
    end: date | None = None,
    field_code: str | None = None,
    region_code: str | None = None,
) -> dict[str, Any]:
    """Matches that reached each stage (suggested → accepted → negotiating → contracted), with rates.

    A match counts for every stage it passed (a contracted match was also accepted). A match withdrawn
    after acceptance counts as accepted. ``asking_amount`` sums the achievements' asking prices,
    ``contract_amount`` the non-cancelled contracts signed on those matches. Period = match creation.
    """
    lo, hi = period_bounds(year, start, end)
    with Session(db) as session:
        rows = _funnel_rows(session, field_code, lo, hi)
        contract_amounts: dict[int | None, Decimal] = dict(
            session.exec(
                select(col(Contract.match_id), col(Contract.contract_amount)).where(
                    col(Contract.match_id).is_not(None), Contract.status != ContractStatus.CANCELLED
                )
            ).all()
        )
    rows = [r for r in rows if region_code is None or within(r[2], region_code)]
    return _funnel_summary(rows, contract_amounts)


def _funnel_rows(
    session: Session, field_code: str | None, lo: date | None, hi: date | None
) -> list[tuple[Match, date, str, Decimal | None]]:
    query = (
        select(Match, col(Need.region_code), col(Achievement.asking_price))
        .join(Need, col(Need.id) == Match.need_id)
        .join(Achievement, col(Achievement.id) == Match.achievement_id)
    )
    if lo is not None:
        query = query.where(col(Match.created_at) >= datetime.combine(lo, time.min, UTC))
    if hi is not None:
        query = query.where(col(Match.created_at) < datetime.combine(hi + timedelta(days=1), time.min, UTC))
    if field_code:
        query = query.where(col(Need.field_code).startswith(field_code))
    return [(m, m.created_at.date(), region, price) for m, region, price in session.exec(query).all()]


def _reached(match: Match, statuses: frozenset[MatchStatus]) -> bool:
    if match.status in statuses:
        return True
    # withdrawn after a broker accepted it: it did pass acceptance
    accepted_then_withdrawn = match.status == MatchStatus.WITHDRAWN and match.decided_at is not None
    return accepted_then_withdrawn and MatchStatus.ACCEPTED in statuses and match.reject_reason is None


def _funnel_summary(
    rows: list[tuple[Match, date, str, Decimal | None]], contract_amounts: dict[int | None, Decimal]
) -> dict[str, Any]:
    stages: list[dict[str, Any]] = []
    first = previous = 0
    for name, label, statuses in _FUNNEL_STAGES:
        hit = [(m, price) for m, _, _, price in rows if _reached(m, statuses)]
        count = len(hit)
        first = first or count
        base = previous if stages else count
        stages.append(
            {
                "stage": name,
                "label": label,
                "count": count,
                "asking_amount": sum((Decimal(p) for _, p in hit if p is not None), ZERO),
                "contract_amount": sum((Decimal(contract_amounts.get(m.id, ZERO)) for m, _ in hit), ZERO),
                "rate_from_previous": _rate(count, base),
                "rate_from_start": _rate(count, first),
            }
        )
        previous = count
    rejected: dict[str, int] = {}
    for m, _, _, _ in rows:
        if m.status == MatchStatus.REJECTED:
            reason = m.reject_reason.value if m.reject_reason else "unknown"
            rejected[reason] = rejected.get(reason, 0) + 1
    return {"stages": stages, "rejected": dict(sorted(rejected.items())), "total": len(rows)}


def _rate(part: int, whole: int) -> Decimal:
    """A percentage with two decimals (0 when there is nothing to divide by)."""
    if whole == 0:
        return ZERO
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.01"))


def totals(db: Engine, *, today: date | None = None) -> dict[str, Any]:
    """Live figures for the trading hall: all non-cancelled contracts, open postings, brokers, members.
    Brokers and member units count by the registries' rules (services.registry_rules), as the goals do."""
    day = today or datetime.now(UTC).date()
    with Session(db) as session:
        deals = load_deals(session)
        registries = load_registry_facts(session)
        paid = session.exec(
            select(func.sum(Payment.amount))
            .join(Contract, col(Contract.id) == Payment.contract_id)
            .where(Contract.status != ContractStatus.CANCELLED)
        ).one()

        def count(model: Any, *where: Any) -> int:
            return int(session.exec(select(func.count()).select_from(model).where(*where)).one())

        return {
            "contracts": sum(counts_in(d, Total.CONTRACT) for d in deals),
            "contract_amount": sum((d.contract_amount for d in deals), ZERO),
            "tech_transaction_amount": sum((d.tech_transaction_amount for d in deals), ZERO),
            "registered_amount": sum((d.registered_amount for d in deals), ZERO),
            "paid_amount": Decimal(paid or 0).quantize(Decimal("0.01")),
            "open_needs": count(Need, Need.status == PostingStatus.OPEN),
            "open_achievements": count(Achievement, Achievement.status == PostingStatus.OPEN),
            "matches": count(Match),
            "active_brokers": count(Broker, col(Broker.active).is_(True)),
            "brokers_counted": registries.stock("brokers", day),
            "member_units": registries.stock("member_units", day),
            "organizations": count(Organization),
        }
