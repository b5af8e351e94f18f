"""The registries behind the "1242" goals: brokers (certification, training, standing, deal record),
member units (application → review → term), technology-transfer institutions, influential flags.
How each counts toward its goal is in services.registry_rules; a broker's deal record (non-cancelled
contracts brokered, turnover) is read from the ledger (services.stats)."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from data.db import session_scope
from models import (
    Achievement,
    Broker,
    BrokerStatus,
    BrokerTraining,
    InfluentialFlag,
    Membership,
    MembershipStatus,
    Organization,
    Role,
    TransferInstitution,
    User,
)
from models.registry_schemas import (
    BrokerRegistryUpdate,
    InfluentialFlagCreate,
    InstitutionCreate,
    MembershipApply,
    MembershipReview,
    TrainingCreate,
)
from models.types import utc_now
from services import audit
from services.actor import Actor
from services.errors import ConflictError, InvalidInputError, NotFoundError, PermissionDeniedError
from services.registry_rules import INFLUENTIAL_AMOUNT, broker_counts_from, fulfilled_contracts
from services.stats import ZERO, load_deals

__all__ = [
    "add_training",
    "apply_membership",
    "broker_registry",
    "flag_influential",
    "list_institutions",
    "list_memberships",
    "register_institution",
    "review_membership",
    "transferred_achievements",
    "update_broker",
]


# -- brokers ------------------------------------------------------------------------------------


def broker_registry(db: Engine, *, today: date | None = None) -> list[dict[str, Any]]:
    """Every broker with certification, training, standing, whether the goal counts them, and the deal
    record the ledger gives (non-cancelled contracts they brokered and their turnover)."""
    day = today or utc_now().date()
    with Session(db) as session:
        rows = session.exec(
            select(Broker, User.display_name, Organization.name)
            .join(User, col(User.id) == Broker.user_id)
            .join(Organization, col(Organization.id) == Broker.org_id)
            .order_by(col(Broker.id))
        ).all()
        trainings: dict[int, list[BrokerTraining]] = defaultdict(list)
        for t in session.exec(select(BrokerTraining).order_by(col(BrokerTraining.completed_on))).all():
            trainings[t.broker_id].append(t)
        deals = load_deals(session)
    record: dict[int, list[Decimal]] = defaultdict(list)
    for d in deals:
        if d.broker_id is not None:
            record[d.broker_id].append(d.contract_amount)
    out = []
    for broker, name, employer in rows:
        bid = broker.id or 0
        counts_from = broker_counts_from(broker, trainings.get(bid, []))
        out.append(
            {
                "id": bid,
                "user_id": broker.user_id,
                "name": name,
                "org_id": broker.org_id,
                "employer": employer,
                "field_codes": list(broker.field_codes),
                "certification_level": broker.certification_level,
                "certificate_number": broker.certificate_number,
                "certificate_issuer": broker.certificate_issuer,
                "certified_on": broker.certified_on,
                "title_track": broker.title_track,
                "status": broker.status,
                "trainings": [
                    {"course": t.course, "hours": t.hours, "completed_on": t.completed_on}
                    for t in trainings.get(bid, [])
                ],
                "training_hours": sum(t.hours for t in trainings.get(bid, [])),
                "counted": counts_from is not None and counts_from <= day,
                "contracts_brokered": len(record.get(bid, [])),
                "turnover": sum(record.get(bid, []), ZERO),
            }
        )
    return out


def _broker(session: Session, broker_id: int) -> Broker:
    broker = session.get(Broker, broker_id)
    if broker is None:
        raise NotFoundError(f"未找到技术经纪人 {broker_id}")
    return broker


def update_broker(db: Engine, actor: Actor, broker_id: int, data: BrokerRegistryUpdate) -> dict[str, Any]:
    """Record certification, 职称 track or standing (admin); a suspended or expired broker gets no reviews."""
    actor.require()
    changes = data.model_dump(exclude_unset=True)
    with session_scope(db) as session:
        broker = _broker(session, broker_id)
        before = audit.snapshot(broker, tuple(changes))
        for name, value in changes.items():
            setattr(broker, name, value)
        if broker.certification_level is not None and not broker.certificate_number:
            raise InvalidInputError("登记证书等级时须填写证书编号", code="certificate_number_required")
        broker.active = broker.status == BrokerStatus.ACTIVE
        session.add(broker)
        audit.record(
            session,
            actor,
            "broker",
            broker_id,
            "registry",
            before=before,
            after=audit.snapshot(broker, tuple(changes)),
        )
    return next(b for b in broker_registry(db) if b["id"] == broker_id)


def add_training(db: Engine, actor: Actor, broker_id: int, data: TrainingCreate) -> dict[str, Any]:
    actor.require()
    with session_scope(db) as session:
        _broker(session, broker_id)
        training = BrokerTraining(broker_id=broker_id, **data.model_dump())
        session.add(training)
        session.flush()
        audit.record(
            session, actor, "broker_training", training.id or 0, "create", after=audit.snapshot(training)
        )
        return audit.snapshot(training) or {}


# -- member units -------------------------------------------------------------------------------


def _membership_row(m: Membership, org_name: str, today: date) -> dict[str, Any]:
    current = (
        m.status == MembershipStatus.APPROVED
        and m.term_start is not None
        and m.term_end is not None
        and m.term_start <= today <= m.term_end
    )
    expired = m.status == MembershipStatus.APPROVED and m.term_end is not None and m.term_end < today
    return {
        **(audit.snapshot(m) or {}),
        "org_name": org_name,
        "state": "current" if current else ("expired" if expired else m.status.value),
    }


def apply_membership(db: Engine, actor: Actor, data: MembershipApply) -> dict[str, Any]:
    """An organisation applies to become a member unit (its own users, or an admin on its behalf)."""
    org_id = data.org_id if actor.is_admin and data.org_id is not None else actor.org_id
    if org_id is None or (data.org_id is not None and data.org_id != org_id):
        raise PermissionDeniedError("只能为本单位申请会员")
    today = utc_now().date()
    with session_scope(db) as session:
        org = session.get(Organization, org_id)
        if org is None:
            raise NotFoundError(f"未找到单位 {org_id}")
        pending = session.exec(
            select(Membership.id).where(
                Membership.org_id == org_id, Membership.status == MembershipStatus.APPLIED
            )
        ).first()
        if pending is not None:
            raise ConflictError("该单位已有待审核的会员申请", code="duplicate_application")
        membership = Membership(org_id=org_id, tier=data.tier, applied_on=data.applied_on or today)
        session.add(membership)
        session.flush()
        audit.record(
            session, actor, "membership", membership.id or 0, "apply", after=audit.snapshot(membership)
        )
        return _membership_row(membership, org.name, today)


def review_membership(db: Engine, actor: Actor, membership_id: int, data: MembershipReview) -> dict[str, Any]:
    """Approve (with a term from ``term_start`` for ``term_years``) or reject a pending application."""
    actor.require()
    today = utc_now().date()
    with session_scope(db) as session:
        m = session.get(Membership, membership_id)
        if m is None:
            raise NotFoundError(f"未找到会员申请 {membership_id}")
        if m.status != MembershipStatus.APPLIED:
            raise ConflictError("该申请已审核", code="invalid_transition")
        before = audit.snapshot(m)
        m.status = MembershipStatus.APPROVED if data.approve else MembershipStatus.REJECTED
        m.reviewed_on, m.reviewed_by, m.review_note = today, actor.user_id, data.note
        if data.approve:
            start = data.term_start or today
            m.term_start = start
            m.term_end = _add_years(start, data.term_years) - _ONE_DAY
        session.add(m)
        audit.record(
            session, actor, "membership", membership_id, "review", before=before, after=audit.snapshot(m)
        )
        org = session.get(Organization, m.org_id)
        return _membership_row(m, org.name if org else "", today)


def list_memberships(db: Engine, *, today: date | None = None) -> list[dict[str, Any]]:
    day = today or utc_now().date()
    with Session(db) as session:
        rows = session.exec(
            select(Membership, Organization.name)
            .join(Organization, col(Organization.id) == Membership.org_id)
            .order_by(col(Membership.id))
        ).all()
    return [_membership_row(m, name, day) for m, name in rows]


# -- technology-transfer institutions -----------------------------------------------------------


def register_institution(db: Engine, actor: Actor, data: InstitutionCreate) -> dict[str, Any]:
    actor.require()
    with session_scope(db) as session:
        if session.get(Organization, data.org_id) is None:
            raise NotFoundError(f"未找到单位 {data.org_id}")
        if session.exec(
            select(TransferInstitution.id).where(TransferInstitution.org_id == data.org_id)
        ).first():
            raise ConflictError("该单位已在技术转移机构名录中", code="duplicate_institution")
        row = TransferInstitution(**data.model_dump())
        session.add(row)
        session.flush()
        audit.record(session, actor, "transfer_institution", row.id or 0, "create", after=audit.snapshot(row))
        return audit.snapshot(row) or {}


def list_institutions(db: Engine) -> list[dict[str, Any]]:
    with Session(db) as session:
        rows = session.exec(
            select(TransferInstitution, Organization.name, Organization.region_code)
            .join(Organization, col(Organization.id) == TransferInstitution.org_id)
            .order_by(col(TransferInstitution.id))
        ).all()
    return [
        {**(audit.snapshot(i) or {}), "org_name": name, "region_code": region} for i, name, region in rows
    ]


# -- achievements transferred -------------------------------------------------------------------


def flag_influential(
    db: Engine, actor: Actor, achievement_id: int, data: InfluentialFlagCreate
) -> dict[str, Any]:
    actor.require()
    with session_scope(db) as session:
        if session.get(Achievement, achievement_id) is None:
            raise NotFoundError(f"未找到科技成果 {achievement_id}")
        if session.exec(
            select(InfluentialFlag.id).where(InfluentialFlag.achievement_id == achievement_id)
        ).first():
            raise ConflictError("该成果已认定为有较大影响", code="already_flagged")
        flag = InfluentialFlag(achievement_id=achievement_id, reason=data.reason, flagged_by=actor.user_id)
        session.add(flag)
        session.flush()
        audit.record(session, actor, "influential_flag", flag.id or 0, "create", after=audit.snapshot(flag))
        return audit.snapshot(flag) or {}


def transferred_achievements(db: Engine, actor: Actor) -> list[dict[str, Any]]:
    """Achievements counted as transferred (admins and registration agencies: titles of confidential
    achievements are not shown to anyone else)."""
    actor.require(Role.REGISTRAR)
    with Session(db) as session:
        fulfilled = fulfilled_contracts(session)
        flagged = set(session.exec(select(InfluentialFlag.achievement_id)).all())
        titles = dict(session.exec(select(Achievement.id, Achievement.title)).all())
    seen: set[int] = set()
    out = []
    for f in sorted(fulfilled, key=lambda f: f.on):
        if f.achievement_id in seen:
            continue
        seen.add(f.achievement_id)
        out.append(
            {
                "achievement_id": f.achievement_id,
                "title": titles.get(f.achievement_id, ""),
                "contract_id": f.contract_id,
                "fulfilled_on": f.on,
                "contract_amount": f.amount,
                "influential": f.amount >= INFLUENTIAL_AMOUNT or f.achievement_id in flagged,
                "flagged": f.achievement_id in flagged,
            }
        )
    return out


_ONE_DAY = date(2000, 1, 2) - date(2000, 1, 1)


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)
