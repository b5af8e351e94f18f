"""Loads the shipped demo corpus (data/demo) and the reference targets and policy rules in one
transaction: either everything is loaded or nothing is."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select

from data.db import session_scope
from data.demo import DEMO_PASSWORD, read_demo
from models import (
    Achievement,
    Broker,
    Contract,
    ContractStatus,
    Match,
    MatchStatus,
    Need,
    Organization,
    Payment,
    Registration,
    RegistrationConclusion,
    User,
)
from models.registration import CONCLUSION_STATUS
from models.transitions import ledger_posting_status
from services.demo_calls import load_calls_and_scenes
from services.demo_registries import load_registries
from services.passwords import hash_password
from services.targets import load_reference_targets_and_rules

DEMO_ENGINE_VERSION = "demo-history"


def _money(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


def _published(record: dict[str, Any]) -> datetime:
    day = date.fromisoformat(record["published_on"])
    return datetime(day.year, day.month, day.day, 9, tzinfo=UTC)


def load_demo(db: Engine, *, if_empty: bool = False) -> str:
    """Load everything; with ``if_empty`` do nothing when organisations already exist."""
    with Session(db) as session:
        existing = session.exec(select(func.count()).select_from(Organization)).one()
    if existing and if_empty:
        return f"demo not loaded: the database already holds {existing} organisations"
    load_reference_targets_and_rules(db)
    with session_scope(db) as session:
        orgs = _load_organizations(session)
        users = _load_users(session, orgs)
        brokers = _load_brokers(session, orgs, users)
        needs = _load_needs(session, orgs)
        achievements = _load_achievements(session, orgs)
        contracts = _load_contracts(session, orgs, brokers, needs, achievements)
        _load_payments(session, contracts)
        history = load_registries(session, orgs, brokers, achievements)
        _load_registrations(session, orgs, contracts)
        _mark_contracted_postings(session)
        calls, scenes = load_calls_and_scenes(session, orgs, needs, achievements)
    return (
        f"demo loaded: {len(orgs)} organisations, {len(users)} users (password {DEMO_PASSWORD!r}), "
        f"{len(brokers)} brokers, {len(needs)} needs, {len(achievements)} achievements, {len(contracts)} contracts "
        f"and {history} contracts of 2015–2020, with the broker, member and institution registries, "
        f"{calls} 揭榜挂帅 calls, {scenes} scenes"
    )


def _load_organizations(session: Session) -> dict[str, int]:
    ids: dict[str, int] = {}
    for r in read_demo("organizations"):
        org = Organization(
            external_id=r["external_id"],
            name=r["name"],
            kind=r["kind"],
            uscc=r["uscc"],
            region_code=r["region_code"],
            tags=r["tags"],
            is_member=r["is_member"],
        )
        session.add(org)
        session.flush()
        ids[r["external_id"]] = org.id or 0
    return ids


def _load_users(session: Session, orgs: dict[str, int]) -> dict[str, int]:
    shared_hash = hash_password(DEMO_PASSWORD)  # one hash for the shared demo password keeps loading fast
    ids: dict[str, int] = {}
    for r in read_demo("users"):
        user = User(
            username=r["username"],
            display_name=r["display_name"],
            role=r["role"],
            org_id=orgs[r["org_external_id"]],
            password_hash=shared_hash,
        )
        session.add(user)
        session.flush()
        ids[r["external_id"]] = user.id or 0
    return ids


def _load_brokers(session: Session, orgs: dict[str, int], users: dict[str, int]) -> dict[str, int]:
    ids: dict[str, int] = {}
    for r in read_demo("brokers"):
        broker = Broker(
            user_id=users[r["user_external_id"]],
            org_id=orgs[r["org_external_id"]],
            field_codes=r["field_codes"],
            region_codes=r["region_codes"],
            capacity=r["capacity"],
        )
        session.add(broker)
        session.flush()
        ids[r["external_id"]] = broker.id or 0
    return ids


def _load_needs(session: Session, orgs: dict[str, int]) -> dict[str, int]:
    ids: dict[str, int] = {}
    for r in read_demo("needs"):
        when = _published(r)
        need = Need(
            external_id=r["external_id"],
            org_id=orgs[r["org_external_id"]],
            title=r["title"],
            description=r["description"],
            field_code=r["field_code"],
            keywords=r["keywords"],
            region_code=r["region_code"],
            budget_min=_money(r["budget_min"]),
            budget_max=_money(r["budget_max"]),
            modes=r["modes"],
            min_maturity=r["min_maturity"],
            deadline=date.fromisoformat(r["deadline"]) if r["deadline"] else None,
            visibility=r["visibility"],
            status=r["status"],
            created_at=when,
            updated_at=when,
        )
        session.add(need)
        session.flush()
        ids[r["external_id"]] = need.id or 0
    return ids


def _load_achievements(session: Session, orgs: dict[str, int]) -> dict[str, int]:
    ids: dict[str, int] = {}
    for r in read_demo("achievements"):
        when = _published(r)
        achievement = Achievement(
            external_id=r["external_id"],
            org_id=orgs[r["org_external_id"]],
            title=r["title"],
            abstract=r["abstract"],
            field_code=r["field_code"],
            keywords=r["keywords"],
            region_code=r["region_code"],
            maturity=r["maturity"],
            trl=r["trl"],
            ip_type=r["ip_type"],
            ip_number=r["ip_number"],
            asking_price=_money(r["asking_price"]),
            modes=r["modes"],
            visibility=r["visibility"],
            status=r["status"],
            created_at=when,
            updated_at=when,
        )
        session.add(achievement)
        session.flush()
        ids[r["external_id"]] = achievement.id or 0
    return ids


def _load_contracts(
    session: Session,
    orgs: dict[str, int],
    brokers: dict[str, int],
    needs: dict[str, int],
    achievements: dict[str, int],
) -> dict[str, int]:
    """Historical deals: each one brokered from a pairing gets its (contracted) match, so funnels add up."""
    ids: dict[str, int] = {}
    for r in read_demo("contracts"):
        broker_id = brokers.get(r["broker_external_id"] or "")
        match_id = None
        if r["need_external_id"] and r["achievement_external_id"]:
            match = Match(
                need_id=needs[r["need_external_id"]],
                achievement_id=achievements[r["achievement_external_id"]],
                score=0.0,
                rank=0,
                engine_version=DEMO_ENGINE_VERSION,
                broker_id=broker_id,
                status=MatchStatus.CONTRACTED,
            )
            session.add(match)
            session.flush()
            match_id = match.id
        contract = Contract(
            contract_number=r["contract_number"],
            contract_type=r["contract_type"],
            title=r["title"],
            match_id=match_id,
            buyer_org_id=orgs[r["buyer_org_external_id"]],
            seller_org_id=orgs[r["seller_org_external_id"]],
            broker_id=broker_id,
            field_code=r["field_code"],
            region_code=r["region_code"],
            sub_center_code=r["sub_center_code"],
            contract_amount=Decimal(r["contract_amount"]),
            tech_transaction_amount=Decimal(r["tech_transaction_amount"]),
            signed_on=date.fromisoformat(r["signed_on"]),
            is_open_call=r["is_open_call"],
            status=ContractStatus(r["status"]),
        )
        session.add(contract)
        session.flush()
        ids[r["external_id"]] = contract.id or 0
    return ids


def _load_registrations(session: Session, orgs: dict[str, int], contracts: dict[str, int]) -> None:
    """The 认定登记 records; each contract takes the status its conclusion gives it."""
    for r in read_demo("registrations"):
        contract = session.get(Contract, contracts[r["contract_external_id"]])
        assert contract is not None
        registration = Registration(
            contract_id=contract.id or 0,
            registrar_org_id=orgs[r["registrar_org_external_id"]],
            conclusion=RegistrationConclusion(r["conclusion"]),
            reason=r["reason"],
            registration_number=r["registration_number"],
            registered_amount=Decimal(r["registered_amount"]),
            tech_income=Decimal(r["tech_income"]),
            registered_on=date.fromisoformat(r["registered_on"]),
            subtype=r["subtype"],
            ip_type=r["ip_type"],
            ip_number=r["ip_number"],
            term_start=_day(r["term_start"]),
            term_end=_day(r["term_end"]),
            payment_method=r["payment_method"],
        )
        contract.status = CONCLUSION_STATUS[registration.conclusion]
        session.add_all([registration, contract])


def _mark_contracted_postings(session: Session) -> None:
    """Needs and achievements of live match contracts are contracted, as the ledger would have made them."""
    session.flush()
    for match in session.exec(
        select(Match)
        .join(Contract, col(Contract.match_id) == Match.id)
        .where(Contract.status != ContractStatus.CANCELLED)
    ).all():
        need, achievement = session.get(Need, match.need_id), session.get(Achievement, match.achievement_id)
        for row in (need, achievement):
            assert row is not None
            target = ledger_posting_status(row.status, contracted=True)
            if target is not None:
                row.status = target
                session.add(row)


def _day(value: str | None) -> date | None:
    return None if value is None else date.fromisoformat(value)


def _load_payments(session: Session, contracts: dict[str, int]) -> None:
    for r in read_demo("payments"):
        session.add(
            Payment(
                contract_id=contracts[r["contract_external_id"]],
                amount=Decimal(r["amount"]),
                paid_on=date.fromisoformat(r["paid_on"]),
            )
        )
