"""The money side: technology contracts, payments, registrations, targets, subsidy rules, audit."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from models.enums import (
    ContractStatus,
    ContractSubtype,
    ContractType,
    IPType,
    PaymentMethod,
    PolicyBase,
    PolicyPer,
    RegistrationConclusion,
    TargetKind,
    TargetMetric,
)
from models.types import MONEY, RATE, UTCDateTime, enum_type, utc_now


class Contract(SQLModel, table=True):
    """A technology contract (技术合同). Amounts are yuan; the technology-transaction amount (技术交易额) is
    the part of the contract amount (合同成交额) that is technology."""

    __tablename__ = "contracts"

    id: int | None = Field(default=None, primary_key=True)
    contract_number: str = Field(max_length=64, unique=True)
    contract_type: ContractType = Field(index=True, sa_type=enum_type(ContractType))
    match_id: int | None = Field(default=None, foreign_key="matches.id", unique=True)
    buyer_org_id: int = Field(foreign_key="organizations.id", index=True)
    seller_org_id: int = Field(foreign_key="organizations.id", index=True)
    broker_id: int | None = Field(default=None, foreign_key="brokers.id", index=True)
    field_code: str = Field(max_length=16, index=True)
    region_code: str = Field(max_length=32, index=True)
    sub_center_code: str | None = Field(default=None, max_length=32)
    title: str = Field(max_length=200)
    contract_amount: Decimal = Field(sa_type=MONEY)
    tech_transaction_amount: Decimal = Field(sa_type=MONEY)
    signed_on: date = Field(index=True)
    is_open_call: bool = False  # 揭榜挂帅 project: its payments earn the 30% subsidy
    call_id: int | None = Field(default=None, foreign_key="calls.id", index=True)
    status: ContractStatus = Field(
        default=ContractStatus.SIGNED, index=True, sa_type=enum_type(ContractStatus)
    )
    cancelled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    cancel_reason: str | None = Field(default=None, max_length=500)
    created_by: int | None = Field(default=None, foreign_key="users.id")
    created_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)


class Payment(SQLModel, table=True):
    __tablename__ = "payments"

    id: int | None = Field(default=None, primary_key=True)
    contract_id: int = Field(foreign_key="contracts.id", index=True)
    amount: Decimal = Field(sa_type=MONEY)
    paid_on: date
    created_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)


class Registration(SQLModel, table=True):
    """认定登记 of a contract by a registration agency; one per contract, holding the latest 认定结论.

    A 退回补正 (returned for correction) record is replaced when the corrected contract is registered
    again; the audit log keeps every decision. ``registered_amount`` (登记成交额) and ``tech_income``
    (技术性收入, the technology part the registrar recognised) are zero unless the conclusion is 登记;
    ``registered_on`` is the date of the decision."""

    __tablename__ = "registrations"

    id: int | None = Field(default=None, primary_key=True)
    contract_id: int = Field(foreign_key="contracts.id", unique=True)
    registrar_org_id: int = Field(foreign_key="organizations.id", index=True)
    conclusion: RegistrationConclusion = Field(
        default=RegistrationConclusion.REGISTERED, index=True, sa_type=enum_type(RegistrationConclusion)
    )
    reason: str | None = Field(default=None, max_length=500)
    registration_number: str | None = Field(default=None, max_length=32, unique=True)
    registered_amount: Decimal = Field(sa_type=MONEY)
    tech_income: Decimal = Field(sa_type=MONEY)
    registered_on: date
    subtype: ContractSubtype | None = Field(default=None, sa_type=enum_type(ContractSubtype))
    ip_type: IPType | None = Field(default=None, sa_type=enum_type(IPType))
    ip_number: str | None = Field(default=None, max_length=64)
    term_start: date | None = None
    term_end: date | None = None
    payment_method: PaymentMethod | None = Field(default=None, sa_type=enum_type(PaymentMethod))
    created_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)


class Target(SQLModel, table=True):
    """A goal on a metric. ``kind`` says how the goal is stated (services.targets computes each):
    absolute ``value``; ``factor`` × the value of ``baseline_year``; or growth faster than the growth of
    ``reference_region_code``. A retired target keeps its row (and audit trail) but is no longer shown."""

    __tablename__ = "targets"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=64, unique=True)
    name: str = Field(max_length=200)
    scope: str = Field(max_length=32)  # province | city | center | org
    region_code: str | None = Field(default=None, max_length=32)
    org_id: int | None = Field(default=None, foreign_key="organizations.id")
    metric: TargetMetric = Field(sa_type=enum_type(TargetMetric))
    kind: TargetKind = Field(default=TargetKind.ABSOLUTE, sa_type=enum_type(TargetKind))
    comparator: str = Field(default="ge", max_length=2)  # ge | gt
    period_start: date
    period_end: date
    value: Decimal | None = Field(default=None, sa_type=MONEY)
    factor: Decimal | None = Field(default=None, sa_type=RATE)
    baseline_year: int | None = None
    reference_region_code: str | None = Field(default=None, max_length=32)
    baseline: Decimal | None = Field(default=None, sa_type=MONEY)
    source: str = Field(default="", max_length=200)
    quote: str | None = Field(default=None, max_length=500)
    retired_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)


class PolicyRule(SQLModel, table=True):
    """A subsidy formula as data: ``min(rate × base, cap)`` per ``per`` and ``period``."""

    __tablename__ = "policy_rules"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=32, unique=True)
    name: str = Field(max_length=200)
    rate: Decimal = Field(sa_type=RATE)
    base: PolicyBase = Field(sa_type=enum_type(PolicyBase))
    cap: Decimal | None = Field(default=None, sa_type=MONEY)
    per: PolicyPer = Field(sa_type=enum_type(PolicyPer))
    period: str = Field(max_length=16)  # project | year
    region_code: str | None = Field(default=None, max_length=32)
    source: str = Field(default="", max_length=200)
    active: bool = True
    created_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)


class AuditEvent(SQLModel, table=True):
    """Append-only: who changed what, when, with the state before and after."""

    __tablename__ = "audit_events"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime, index=True)
    actor_id: int | None = Field(default=None, foreign_key="users.id")
    entity: str = Field(max_length=32, index=True)
    entity_id: int = Field(index=True)
    action: str = Field(max_length=64)
    before: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    after: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))


class ImportRecord(SQLModel, table=True):
    """The outcome of a bulk import, kept under its Idempotency-Key so a re-sent file is not re-applied."""

    __tablename__ = "import_records"

    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organizations.id", index=True)
    idempotency_key: str = Field(max_length=128)
    kind: str = Field(max_length=32)
    result: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)
