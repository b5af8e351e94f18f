"""Subsidies derived from contracts, driven only by `PolicyRule` rows: ``min(rate × base, cap)``.

What each column of a rule means here (a new rule that reuses a base, per and period needs no code):
* base — what the rate applies to:
  ``actual_payments`` payments made under a contract (by paid_on); ``prior_year_contract_turnover``
  contract amounts signed in the year before the subsidy year; ``registered_turnover`` amounts
  registered (认定结论 登记, `services.stats.counts_in`) by a registration agency (by registered_on);
  ``actual_investment`` the investment recorded in scene pilot agreements (场景试点, by signed_on).
* per — who gets it: ``project`` = one 揭榜挂帅 project, i.e. a contract flagged ``is_open_call``, paid
  to its buyer (the enterprise that set the challenge and pays, 发榜方), or one scene pilot, paid to the
  scene owner that invests; ``unit`` = the seller side of
  contracts (技术输出方: the university, institute or enterprise transferring the technology);
  ``registrar`` = the registration agency.
* period — ``year``: the cap applies to each year's base; ``project``: the cap applies over the
  project's life, so a year's subsidy is ``f(cumulative to year end) − f(cumulative to last year end)``.
* region_code — the rule's jurisdiction: the beneficiary organisation must lie in it.
Cancelled contracts earn nothing. Every figure is Decimal, quantised to the fen with ROUND_HALF_UP.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from data.db import session_scope
from data.reference import is_known_region
from models import (
    Contract,
    ContractStatus,
    Organization,
    Payment,
    PilotAgreement,
    PolicyBase,
    PolicyPer,
    PolicyRule,
    Registration,
)
from models.schemas import PolicyRuleCreate
from services import audit
from services.actor import Actor
from services.errors import ConflictError, InvalidInputError
from services.stats import ZERO, Total, counts_in, load_deals, within

__all__ = ["apply_rule", "compute_subsidies", "create_policy_rule"]

logger = logging.getLogger(__name__)
_CENT = Decimal("0.01")
_YEAR_OFFSET = {PolicyBase.PRIOR_YEAR_CONTRACT_TURNOVER: -1}


@dataclass(frozen=True)
class BaseItem:
    """One dated amount a rule's base is made of, with the parties it can be attributed to."""

    contract_id: int
    contract_number: str
    buyer_org_id: int
    seller_org_id: int
    registrar_org_id: int | None
    is_open_call: bool
    amount: Decimal
    on: date
    call_id: int | None = None
    pilot_id: int | None = None

    @property
    def project(self) -> tuple[str, int] | None:
        """The project this amount belongs to, if it is one: a 揭榜挂帅 contract or a scene pilot."""
        if self.pilot_id is not None:
            return ("pilot", self.pilot_id)
        return ("contract", self.contract_id) if self.is_open_call else None


def apply_rule(rate: Decimal, base: Decimal, cap: Decimal | None) -> Decimal:
    """``min(rate × base, cap)`` rounded half-up to the fen."""
    raw = rate * base
    return (raw if cap is None else min(raw, cap)).quantize(_CENT, rounding=ROUND_HALF_UP)


def _live_contracts(session: Session) -> dict[int, tuple[Contract, int | None]]:
    rows = session.exec(
        select(Contract, Registration.registrar_org_id)
        .outerjoin(Registration, col(Registration.contract_id) == Contract.id)
        .where(Contract.status != ContractStatus.CANCELLED)
    ).all()
    return {c.id or 0: (c, r) for c, r in rows}


def _item(contract: Contract, registrar: int | None, amount: Decimal, on: date) -> BaseItem:
    return BaseItem(
        contract_id=contract.id or 0,
        contract_number=contract.contract_number,
        buyer_org_id=contract.buyer_org_id,
        seller_org_id=contract.seller_org_id,
        registrar_org_id=registrar,
        is_open_call=contract.is_open_call,
        amount=Decimal(amount),
        on=on,
        call_id=contract.call_id,
    )


def _pilot_items(session: Session) -> list[BaseItem]:
    """Scene pilots' actual investment, attributed to the scene owner (buyer side) as a project."""
    return [
        BaseItem(
            contract_id=0,
            contract_number="",
            buyer_org_id=p.owner_org_id,
            seller_org_id=p.provider_org_id,
            registrar_org_id=None,
            is_open_call=False,
            amount=Decimal(p.investment),
            on=p.signed_on,
            pilot_id=p.id,
        )
        for p in session.exec(select(PilotAgreement)).all()
    ]


def base_items(session: Session, base: PolicyBase) -> list[BaseItem]:
    """Every dated amount of one base kind."""
    live = _live_contracts(session)
    if base == PolicyBase.ACTUAL_PAYMENTS:
        payments = session.exec(select(Payment)).all()
        return [_item(*live[p.contract_id], p.amount, p.paid_on) for p in payments if p.contract_id in live]
    if base == PolicyBase.PRIOR_YEAR_CONTRACT_TURNOVER:
        return [
            _item(live[d.id][0], d.registrar_org_id, d.contract_amount, d.signed_on)
            for d in load_deals(session)
            if counts_in(d, Total.CONTRACT)
        ]
    if base == PolicyBase.REGISTERED_TURNOVER:
        return [
            _item(live[d.id][0], d.registrar_org_id, d.registered_amount, d.registered_on)
            for d in load_deals(session)
            if counts_in(d, Total.REGISTERED) and d.registered_on is not None
        ]
    if base == PolicyBase.ACTUAL_INVESTMENT:
        return _pilot_items(session)
    logger.info("no ledger data for subsidy base %s; its rules yield nothing", base.value)
    return []


_BENEFICIARY: dict[PolicyPer, Callable[[BaseItem], int | None]] = {
    PolicyPer.PROJECT: lambda i: i.buyer_org_id if i.project is not None else None,
    PolicyPer.UNIT: lambda i: i.seller_org_id,
    PolicyPer.REGISTRAR: lambda i: i.registrar_org_id,
}


def _group_key(per: PolicyPer, item: BaseItem) -> tuple[int, tuple[str, int] | None] | None:
    """(beneficiary org, project or None), or None when the item does not count."""
    org = _BENEFICIARY[per](item)
    if org is None:
        return None
    return org, item.project if per == PolicyPer.PROJECT else None


def _rule_rows(
    rule: PolicyRule, items: list[BaseItem], year: int, orgs: dict[int, Organization]
) -> list[dict[str, Any]]:
    shift = _YEAR_OFFSET.get(rule.base, 0)
    start, end = date(year + shift, 1, 1), date(year + shift, 12, 31)
    groups: dict[tuple[int, tuple[str, int] | None], list[BaseItem]] = {}
    for item in items:
        key = _group_key(rule.per, item)
        if key is not None and item.on <= end:
            groups.setdefault(key, []).append(item)
    rows = []
    for (org_id, project), group in groups.items():
        org = orgs.get(org_id)
        if org is None or (rule.region_code and not within(org.region_code, rule.region_code)):
            continue
        in_year = sum((i.amount for i in group if i.on >= start), ZERO)
        if in_year == 0:
            continue
        earlier = sum((i.amount for i in group if i.on < start), ZERO) if rule.period == "project" else ZERO
        rows.append(_row(rule, year, org, project, group, in_year, earlier))
    return rows


def _row(
    rule: PolicyRule,
    year: int,
    org: Organization,
    project: tuple[str, int] | None,
    group: list[BaseItem],
    in_year: Decimal,
    earlier: Decimal,
) -> dict[str, Any]:
    rate, cap = Decimal(rule.rate), None if rule.cap is None else Decimal(rule.cap)
    earlier_subsidy = apply_rule(rate, earlier, cap) if earlier else ZERO
    subsidy = apply_rule(rate, earlier + in_year, cap) - earlier_subsidy
    uncapped = (rate * in_year).quantize(_CENT, rounding=ROUND_HALF_UP)
    return {
        "rule_code": rule.code,
        "rule_name": rule.name,
        "year": year,
        "base": rule.base.value,
        "per": rule.per.value,
        "period": rule.period,
        "beneficiary_org_id": org.id,
        "beneficiary_name": org.name,
        "beneficiary_kind": org.kind.value,
        "beneficiary_region_code": org.region_code,
        "contract_id": project[1] if project and project[0] == "contract" else None,
        "contract_number": group[0].contract_number if project and project[0] == "contract" else None,
        "call_id": group[0].call_id if project else None,
        "pilot_agreement_id": project[1] if project and project[0] == "pilot" else None,
        "base_amount": in_year,
        "earlier_base_amount": earlier,
        "rate": rate,
        "cap": cap,
        "uncapped_amount": uncapped,
        "earlier_subsidy": earlier_subsidy,
        "subsidy": subsidy,
        "capped": subsidy < uncapped,
    }


def compute_subsidies(db: Engine, *, year: int) -> list[dict[str, Any]]:
    """What every active rule yields for ``year``, one row per beneficiary (and project)."""
    with Session(db) as session:
        rules = session.exec(
            select(PolicyRule).where(col(PolicyRule.active).is_(True)).order_by(col(PolicyRule.code))
        ).all()
        orgs = {o.id or 0: o for o in session.exec(select(Organization)).all()}
        items = {base: base_items(session, base) for base in {r.base for r in rules}}
    rows: list[dict[str, Any]] = []
    for rule in rules:
        found = _rule_rows(rule, items[rule.base], year, orgs)
        rows += sorted(found, key=lambda r: (-r["subsidy"], r["beneficiary_org_id"], r["contract_id"] or 0))
    return rows


def list_policy_rules(db: Engine, actor: Actor, *, active_only: bool = False) -> list[dict[str, Any]]:
    """Every subsidy rule (admin only), by code: what `compute_subsidies` applies and where it comes from."""
    actor.require()
    with Session(db) as session:
        query = select(PolicyRule).order_by(col(PolicyRule.code))
        if active_only:
            query = query.where(col(PolicyRule.active).is_(True))
        return [audit.snapshot(rule) or {} for rule in session.exec(query).all()]


def create_policy_rule(db: Engine, actor: Actor, data: PolicyRuleCreate) -> dict[str, Any]:
    """Add a subsidy rule (admin only); it takes effect in the next computation."""
    actor.require()
    if data.region_code is not None and not is_known_region(data.region_code):
        raise InvalidInputError(f"unknown region code {data.region_code!r}", code="unknown_region_code")
    with session_scope(db) as session:
        if session.exec(select(PolicyRule.id).where(PolicyRule.code == data.code)).first() is not None:
            raise ConflictError(f"policy rule {data.code!r} exists", code="duplicate_code")
        rule = PolicyRule(**data.model_dump())
        session.add(rule)
        session.flush()
        audit.record(session, actor, "policy_rule", rule.id or 0, "create", after=audit.snapshot(rule))
        return audit.snapshot(rule) or {}
