"""The rules that count the registries toward the "1242" goals (never by row count); the rule texts
below are what the scoreboard shows.

* a broker counts on a day when certified (a level and a certificate number, certified by then), trained
  for at least ``MIN_TRAINING_HOURS`` hours by then, and in good standing (status active);
* a member unit counts on a day inside the term of an approved membership (an expired one stops);
* a technology-transfer institution counts as introduced (引进) or cultivated (培育) from its ``since`` date;
* an achievement counts as transferred on the day a non-cancelled contract on it is fulfilled (its
  payments reach the contract amount), once however many contracts it has, and as influential when
  that contract's amount is at least ``INFLUENTIAL_AMOUNT`` or an administrator flagged the achievement.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlmodel import Session, col, select

from models import (
    Broker,
    BrokerStatus,
    BrokerTraining,
    Contract,
    ContractStatus,
    InfluentialFlag,
    InstitutionKind,
    InstitutionOrigin,
    Match,
    Membership,
    MembershipStatus,
    Organization,
    Payment,
    TransferInstitution,
)

__all__ = [
    "INFLUENTIAL_AMOUNT",
    "MIN_TRAINING_HOURS",
    "RULES",
    "Counted",
    "Fulfilled",
    "RegistryFacts",
    "broker_counts_from",
    "fulfilled_contracts",
    "load_registry_facts",
]

_ZERO = Decimal("0.00")

MIN_TRAINING_HOURS = 16
INFLUENTIAL_AMOUNT = Decimal("1000000.00")
"""¥100万: a fulfilled transfer of at least this amount counts as 有较大影响 without a flag."""

RULES = {
    "brokers": f"持证（初级及以上，有证书编号）、累计培训不少于 {MIN_TRAINING_HOURS} 学时且状态为在册的技术经纪人",
    "member_units": "审核通过且在会员有效期内的会员单位（到期即不再计入）",
    "tt_institutions": "登记为“省内培育”的技术转移机构，按培育日期计入",
    "tt_institutions_introduced": "登记为“省外引进”的技术转移机构（不含研发机构），按引进日期计入",
    "rd_institutions_introduced": "登记为“省外引进”的研发机构和技术服务机构，按引进日期计入",
    "achievements_transferred": "合同已履行完毕（付款达到合同成交额）的科技成果，按付清之日计入，每项成果只计一次",
    "influential_achievements": (
        f"已转移转化的成果中，合同成交额不低于 {INFLUENTIAL_AMOUNT / 10_000:.0f} 万元或经管理员认定有较大影响的项目"
    ),
}
"""How each registry metric counts, in the words the scoreboard shows."""


@dataclass(frozen=True)
class Counted:
    """Something a goal counts: from which day, where, and which organisations it involves."""

    key: int
    since: date
    until: date | None
    region_code: str
    org_ids: tuple[int, ...]


@dataclass(frozen=True)
class RegistryFacts:
    """Every countable item of each registry metric, read once per computation."""

    items: dict[str, list[Counted]]

    def stock(self, metric: str, on: date, keep: Callable[[Counted], bool] | None = None) -> int:
        """Distinct items counted on day ``on`` (begun by then and not ended)."""
        return len(
            {
                c.key
                for c in self.items.get(metric, [])
                if c.since <= on and (c.until is None or on <= c.until) and (keep is None or keep(c))
            }
        )

    def flow(self, metric: str, start: date, end: date, keep: Callable[[Counted], bool] | None = None) -> int:
        """Distinct items that began in ``[start, end]``."""
        return len(
            {
                c.key
                for c in self.items.get(metric, [])
                if start <= c.since <= end and (keep is None or keep(c))
            }
        )


def _training_hours_by(trainings: list[BrokerTraining]) -> list[tuple[date, int]]:
    """(day, cumulative hours) after each training, in date order."""
    total, out = 0, []
    for t in sorted(trainings, key=lambda t: t.completed_on):
        total += t.hours
        out.append((t.completed_on, total))
    return out


def broker_counts_from(broker: Broker, trainings: list[BrokerTraining]) -> date | None:
    """The first day the broker meets the rule, or None (not certified, not trained enough, not active)."""
    if broker.status != BrokerStatus.ACTIVE or broker.certification_level is None:
        return None
    if not broker.certificate_number or broker.certified_on is None:
        return None
    trained = next((d for d, hours in _training_hours_by(trainings) if hours >= MIN_TRAINING_HOURS), None)
    return None if trained is None else max(trained, broker.certified_on)


@dataclass(frozen=True)
class Fulfilled:
    achievement_id: int
    contract_id: int
    on: date
    amount: Decimal
    region_code: str
    org_ids: tuple[int, int]


def fulfilled_contracts(session: Session) -> list[Fulfilled]:
    """Non-cancelled contracts on an achievement whose payments reached the contract amount."""
    rows = session.exec(
        select(Contract, Match.achievement_id)
        .join(Match, col(Match.id) == Contract.match_id)
        .where(Contract.status != ContractStatus.CANCELLED)
    ).all()
    payments: dict[int, list[Payment]] = defaultdict(list)
    for p in session.exec(select(Payment).order_by(col(Payment.paid_on), col(Payment.id))).all():
        payments[p.contract_id].append(p)
    out = []
    for contract, achievement_id in rows:
        paid = _ZERO
        for p in payments.get(contract.id or 0, []):
            paid += Decimal(p.amount)
            if paid >= Decimal(contract.contract_amount):
                out.append(
                    Fulfilled(
                        achievement_id,
                        contract.id or 0,
                        p.paid_on,
                        Decimal(contract.contract_amount),
                        contract.region_code,
                        (contract.buyer_org_id, contract.seller_org_id),
                    )
                )
                break
    return out


def _first_per_achievement(items: list[Counted]) -> list[Counted]:
    first: dict[int, Counted] = {}
    for c in sorted(items, key=lambda c: c.since):
        first.setdefault(c.key, c)
    return list(first.values())


def load_registry_facts(session: Session) -> RegistryFacts:
    org_region = {o.id or 0: o.region_code for o in session.exec(select(Organization)).all()}
    trainings: dict[int, list[BrokerTraining]] = defaultdict(list)
    for t in session.exec(select(BrokerTraining)).all():
        trainings[t.broker_id].append(t)
    brokers = []
    for b in session.exec(select(Broker)).all():
        since = broker_counts_from(b, trainings.get(b.id or 0, []))
        if since is not None:
            brokers.append(Counted(b.id or 0, since, None, org_region.get(b.org_id, ""), (b.org_id,)))
    members = [
        Counted(m.org_id, m.term_start, m.term_end, org_region.get(m.org_id, ""), (m.org_id,))
        for m in session.exec(select(Membership).where(Membership.status == MembershipStatus.APPROVED)).all()
        if m.term_start is not None
    ]
    institutions = session.exec(select(TransferInstitution)).all()

    def register(origin: InstitutionOrigin, rd: bool | None) -> list[Counted]:
        return [
            Counted(i.org_id, i.since, None, org_region.get(i.org_id, ""), (i.org_id,))
            for i in institutions
            if i.origin == origin and (rd is None or (i.kind == InstitutionKind.RD_INSTITUTION) == rd)
        ]

    flagged = set(session.exec(select(InfluentialFlag.achievement_id)).all())
    fulfilled = fulfilled_contracts(session)
    transferred = [Counted(f.achievement_id, f.on, None, f.region_code, f.org_ids) for f in fulfilled]
    influential = [
        Counted(f.achievement_id, f.on, None, f.region_code, f.org_ids)
        for f in fulfilled
        if f.amount >= INFLUENTIAL_AMOUNT or f.achievement_id in flagged
    ]
    return RegistryFacts(
        {
            "brokers": brokers,
            "member_units": members,
            "tt_institutions": register(InstitutionOrigin.CULTIVATED, None),
            "tt_institutions_introduced": register(InstitutionOrigin.INTRODUCED, False),
            "rd_institutions_introduced": register(InstitutionOrigin.INTRODUCED, None),
            "achievements_transferred": _first_per_achievement(transferred),
            "influential_achievements": _first_per_achievement(influential),
        }
    )
