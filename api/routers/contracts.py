"""Technology contracts (技术合同): record, pay, register (认定登记), cancel, list; the trading-hall board."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Query, status
from pydantic import BaseModel, ConfigDict, Field

from api.deps import ActorDep, DbDep, IndexDep
from api.routers.common import Id, Limit, Offset, OrgParam, Page
from models import ContractStatus, ContractSubtype, IPType, PaymentMethod, RegistrationConclusion
from models.schemas import ContractCreate, ContractRead, PaymentCreate, RegistrationCreate
from services import contracts

router = APIRouter(prefix="/contracts", tags=["contracts"])


class RegistrationInfo(BaseModel):
    """认定登记: the latest 认定结论 and what the registrar recorded (amounts zero unless 登记)."""

    registrar_org_id: int
    conclusion: RegistrationConclusion
    reason: str | None
    registration_number: str | None
    registered_amount: Decimal
    tech_income: Decimal
    registered_on: date
    subtype: ContractSubtype | None
    ip_type: IPType | None
    ip_number: str | None
    term_start: date | None
    term_end: date | None
    payment_method: PaymentMethod | None


class PaymentLine(BaseModel):
    id: int
    amount: Decimal
    paid_on: date


class ContractDetail(ContractRead):
    cancel_reason: str | None = None
    paid_amount: Decimal | None = None
    registration: RegistrationInfo | None = None
    payments: list[PaymentLine] | None = None


class PaymentRead(BaseModel):
    id: int
    contract_id: int
    amount: Decimal
    paid_on: date
    paid_total: Decimal


class Cancellation(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    reason: Annotated[str, Field(min_length=1, max_length=500)]


class BoardRow(BaseModel):
    id: int
    title: str
    contract_type: str
    field_code: str
    field_name: str
    region_code: str
    region_name: str
    buyer: str
    seller: str
    contract_amount: Decimal
    signed_on: date
    registered: bool


@router.post("", status_code=status.HTTP_201_CREATED)
def create_contract(data: ContractCreate, actor: ActorDep, db: DbDep, index: IndexDep) -> ContractDetail:
    """Record a signed contract, from a match (which becomes contracted, with its need and achievement)
    or standalone."""
    return ContractDetail.model_validate(contracts.create_contract(db, actor, data, index=index))


@router.get("")
def list_contracts(
    actor: ActorDep,
    db: DbDep,
    status: ContractStatus | None = None,
    year: Annotated[int | None, Query(ge=1990, le=2100)] = None,
    org_id: OrgParam = None,
    offset: Offset = 0,
    limit: Limit = 50,
) -> Page[ContractDetail]:
    """Contracts the caller may see: all for admins and registrars, their own for others."""
    page = contracts.list_contracts(
        db, actor, status=status, year=year, org_id=org_id, offset=offset, limit=limit
    )
    items = [ContractDetail.model_validate(i) for i in page.items]
    return Page[ContractDetail](items=items, total=page.total, offset=page.offset, limit=page.limit)


@router.get("/recent")
def recent_contracts(db: DbDep, limit: Annotated[int, Query(ge=1, le=200)] = 20) -> list[BoardRow]:
    """The trading-hall board: latest deals, confidential parties masked. Public, like the console's
    trading hall (`/console/hall/live.json`) that shows the same board: one answer for both."""
    return [BoardRow.model_validate(r) for r in contracts.recent_contracts(db, limit)]


@router.get("/{contract_id}")
def read_contract(contract_id: Id, actor: ActorDep, db: DbDep) -> ContractDetail:
    """One contract with its payments (and their total) and its registration."""
    return ContractDetail.model_validate(contracts.get_contract(db, actor, contract_id))


@router.post("/{contract_id}/payments", status_code=status.HTTP_201_CREATED)
def add_payment(contract_id: Id, data: PaymentCreate, actor: ActorDep, db: DbDep) -> PaymentRead:
    """Record an actual payment (never more than the contract amount in total)."""
    return PaymentRead.model_validate(contracts.add_payment(db, actor, contract_id, data))


@router.post("/{contract_id}/registration")
def register_contract(
    contract_id: Id, data: RegistrationCreate, actor: ActorDep, db: DbDep
) -> ContractDetail:
    """认定登记 by a registrar: 登记, 不予登记 or 退回补正 (with a reason). 登记 and 不予登记 are final
    (``already_registered`` after them); a contract returned for correction is registered again."""
    return ContractDetail.model_validate(contracts.register_contract(db, actor, contract_id, data))


@router.post("/{contract_id}/cancel")
def cancel_contract(
    contract_id: Id, data: Cancellation, actor: ActorDep, db: DbDep, index: IndexDep
) -> ContractDetail:
    """Cancel (作废) a contract: its history stays, statistics drop it, its postings open again unless
    another live contract holds them (its broker or an admin)."""
    return ContractDetail.model_validate(
        contracts.cancel_contract(db, actor, contract_id, data.reason, index=index)
    )
