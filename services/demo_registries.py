"""Loads the demo registries (data/demo/registries.py): broker certification and training, member
units, technology-transfer institutions, influential flags and the 2015–2020 contract history. Runs
inside `services.demo.load_demo`'s transaction."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlmodel import Session

from data.demo import read_demo
from models import (
    Broker,
    BrokerTraining,
    Contract,
    ContractStatus,
    InfluentialFlag,
    Membership,
    Payment,
    Registration,
    TransferInstitution,
)

__all__ = ["load_registries"]


def _day(text: str | None) -> date | None:
    return None if text is None else date.fromisoformat(text)


def load_registries(
    session: Session, orgs: dict[str, int], brokers: dict[str, int], achievements: dict[str, int]
) -> int:
    """Add every registry record; returns the number of history contracts."""
    for r in read_demo("broker_registry"):
        broker = session.get(Broker, brokers[r["broker_external_id"]])
        assert broker is not None
        broker.certification_level = r["certification_level"]
        broker.certificate_number = r["certificate_number"]
        broker.certificate_issuer = r["certificate_issuer"]
        broker.certified_on = _day(r["certified_on"])
        broker.title_track = r["title_track"]
        broker.status = r["status"]
        session.add(broker)
        for t in r["trainings"]:
            session.add(
                BrokerTraining(
                    broker_id=broker.id or 0,
                    course=t["course"],
                    hours=t["hours"],
                    completed_on=date.fromisoformat(t["completed_on"]),
                )
            )
    for r in read_demo("memberships"):
        session.add(
            Membership(
                org_id=orgs[r["org_external_id"]],
                tier=r["tier"],
                status=r["status"],
                applied_on=date.fromisoformat(r["applied_on"]),
                reviewed_on=_day(r["reviewed_on"]),
                review_note=r["review_note"],
                term_start=_day(r["term_start"]),
                term_end=_day(r["term_end"]),
            )
        )
    for r in read_demo("institutions"):
        session.add(
            TransferInstitution(
                org_id=orgs[r["org_external_id"]],
                kind=r["kind"],
                origin=r["origin"],
                since=date.fromisoformat(r["since"]),
                recognition=r["recognition"],
                recognized_year=r["recognized_year"],
            )
        )
    for r in read_demo("influential_flags"):
        session.add(
            InfluentialFlag(achievement_id=achievements[r["achievement_external_id"]], reason=r["reason"])
        )
    history = read_demo("history_contracts")
    for r in history:
        contract = Contract(
            contract_number=r["contract_number"],
            contract_type=r["contract_type"],
            title=r["title"],
            buyer_org_id=orgs[r["buyer_org_external_id"]],
            seller_org_id=orgs[r["seller_org_external_id"]],
            field_code=r["field_code"],
            region_code=r["region_code"],
            contract_amount=Decimal(r["contract_amount"]),
            tech_transaction_amount=Decimal(r["tech_transaction_amount"]),
            signed_on=date.fromisoformat(r["signed_on"]),
            status=ContractStatus.REGISTERED,
        )
        session.add(contract)
        session.flush()
        reg = r["registration"]
        session.add(
            Registration(
                contract_id=contract.id or 0,
                registrar_org_id=orgs[reg["registrar_org_external_id"]],
                registered_amount=Decimal(reg["registered_amount"]),
                tech_income=min(Decimal(reg["registered_amount"]), Decimal(r["tech_transaction_amount"])),
                registered_on=date.fromisoformat(reg["registered_on"]),
            )
        )
        for p in r["payments"]:
            session.add(
                Payment(
                    contract_id=contract.id or 0,
                    amount=Decimal(p["amount"]),
                    paid_on=date.fromisoformat(p["paid_on"]),
                )
            )
    return len(history)
