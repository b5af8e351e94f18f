"""The registries behind the "1242" goals: brokers (certification, training, deal record), member units
(application → review → term), technology-transfer institutions, achievements transferred."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends, status
from pydantic import BaseModel

from api.deps import AdminDep, DbDep, require_roles
from models import (
    BrokerStatus,
    CertificationLevel,
    InstitutionKind,
    InstitutionOrigin,
    MembershipStatus,
    MemberTier,
    Recognition,
    Role,
)
from models.registry_schemas import (
    BrokerRegistryUpdate,
    InfluentialFlagCreate,
    InstitutionCreate,
    MembershipApply,
    MembershipReview,
    TrainingCreate,
)
from services import registries
from services.actor import Actor

router = APIRouter(prefix="/registry", tags=["registries"])
Reader = Annotated[Actor, Depends(require_roles(Role.REGISTRAR))]
Applicant = Annotated[Actor, Depends(require_roles(Role.ENTERPRISE, Role.INSTITUTION))]


class Training(BaseModel):
    course: str
    hours: int
    completed_on: date


class BrokerEntry(BaseModel):
    id: int
    user_id: int
    name: str
    org_id: int
    employer: str
    field_codes: list[str]
    certification_level: CertificationLevel | None
    certificate_number: str | None
    certificate_issuer: str | None
    certified_on: date | None
    title_track: str | None
    status: BrokerStatus
    trainings: list[Training]
    training_hours: int
    counted: bool
    contracts_brokered: int
    turnover: Decimal


class TrainingRead(Training):
    id: int
    broker_id: int


class MembershipRead(BaseModel):
    id: int
    org_id: int
    org_name: str
    tier: MemberTier
    status: MembershipStatus
    state: str
    applied_on: date
    reviewed_on: date | None
    review_note: str | None
    term_start: date | None
    term_end: date | None


class InstitutionRead(BaseModel):
    id: int
    org_id: int
    org_name: str
    region_code: str
    kind: InstitutionKind
    origin: InstitutionOrigin
    since: date
    recognition: Recognition
    recognized_year: int | None


class TransferredAchievement(BaseModel):
    achievement_id: int
    title: str
    contract_id: int
    fulfilled_on: date
    contract_amount: Decimal
    influential: bool
    flagged: bool


class FlagRead(BaseModel):
    id: int
    achievement_id: int
    reason: str


def _institution(db: Any, row: dict[str, Any]) -> InstitutionRead:
    listed = {i["id"]: i for i in registries.list_institutions(db)}
    return InstitutionRead.model_validate(listed[row["id"]])


@router.get("/brokers")
def list_brokers(_: AdminDep, db: DbDep) -> list[BrokerEntry]:
    """Every broker with certification, training, standing, whether the 1000-broker goal counts them, and
    their deal record from the ledger (admin)."""
    return [BrokerEntry.model_validate(b) for b in registries.broker_registry(db)]


@router.patch("/brokers/{broker_id}")
def update_broker(broker_id: int, data: BrokerRegistryUpdate, actor: AdminDep, db: DbDep) -> BrokerEntry:
    """Record certification, 职称 track or standing (a suspended or expired broker gets no reviews)."""
    return BrokerEntry.model_validate(registries.update_broker(db, actor, broker_id, data))


@router.post("/brokers/{broker_id}/trainings", status_code=status.HTTP_201_CREATED)
def add_training(broker_id: int, data: TrainingCreate, actor: AdminDep, db: DbDep) -> TrainingRead:
    return TrainingRead.model_validate(registries.add_training(db, actor, broker_id, data))


@router.get("/memberships")
def list_memberships(_: AdminDep, db: DbDep) -> list[MembershipRead]:
    return [MembershipRead.model_validate(m) for m in registries.list_memberships(db)]


@router.post("/memberships", status_code=status.HTTP_201_CREATED)
def apply_membership(data: MembershipApply, actor: Applicant, db: DbDep) -> MembershipRead:
    """An enterprise or institution applies for its own organisation (admins name `org_id`)."""
    return MembershipRead.model_validate(registries.apply_membership(db, actor, data))


@router.post("/memberships/{membership_id}/review")
def review_membership(
    membership_id: int, data: MembershipReview, actor: AdminDep, db: DbDep
) -> MembershipRead:
    """Approve (a term of `term_years` from `term_start`) or reject (with a note) an application (admin)."""
    return MembershipRead.model_validate(registries.review_membership(db, actor, membership_id, data))


@router.get("/institutions")
def list_institutions(_: Reader, db: DbDep) -> list[InstitutionRead]:
    return [InstitutionRead.model_validate(i) for i in registries.list_institutions(db)]


@router.post("/institutions", status_code=status.HTTP_201_CREATED)
def register_institution(data: InstitutionCreate, actor: AdminDep, db: DbDep) -> InstitutionRead:
    return _institution(db, registries.register_institution(db, actor, data))


@router.get("/achievements-transferred")
def achievements_transferred(actor: Reader, db: DbDep) -> list[TransferredAchievement]:
    """Achievements whose contract is fulfilled (fully paid), each once, with the influential rule applied."""
    return [TransferredAchievement.model_validate(a) for a in registries.transferred_achievements(db, actor)]


@router.post("/achievements/{achievement_id}/influential", status_code=status.HTTP_201_CREATED)
def flag_influential(
    achievement_id: int, data: InfluentialFlagCreate, actor: AdminDep, db: DbDep
) -> FlagRead:
    """Flag an achievement as influential (有较大影响) whatever its contract amount (admin)."""
    return FlagRead.model_validate(registries.flag_influential(db, actor, achievement_id, data))
