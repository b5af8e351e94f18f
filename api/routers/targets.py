"""Turnover and platform targets with their progress (admins and registration agencies read, admins set)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Depends, status
from pydantic import BaseModel

from api.deps import AdminDep, DbDep, require_roles
from models import Role, TargetKind, TargetMetric
from models.registry_schemas import TargetUpdate
from models.schemas import TargetCreate
from services import targets
from services.actor import Actor

router = APIRouter(prefix="/targets", tags=["targets"])
TargetReader = Annotated[Actor, Depends(require_roles(Role.REGISTRAR))]


class TargetRead(BaseModel):
    id: int
    code: str
    name: str
    scope: str
    region_code: str | None
    org_id: int | None
    metric: TargetMetric
    kind: TargetKind
    comparator: str
    period_start: date
    period_end: date
    value: Decimal | None
    factor: Decimal | None
    baseline_year: int | None
    reference_region_code: str | None
    baseline: Decimal | None
    source: str
    quote: str | None
    retired_at: datetime | None
    created_at: datetime


class TargetProgress(BaseModel):
    id: int
    code: str
    name: str
    scope: str
    region_code: str | None
    region_name: str | None
    org_id: int | None
    metric: str
    kind: TargetKind
    comparator: str
    factor: Decimal | None
    baseline_year: int | None
    reference_region_code: str | None
    reference_region_name: str | None
    unit: str
    period_start: date
    period_end: date
    as_of: date
    state: str
    value: int | Decimal | None
    baseline: int | Decimal | None
    actual: int | Decimal | None
    current: int | Decimal | None
    percent: Decimal | None
    projection: Decimal | None
    outcome: str
    on_track: bool
    measured: bool
    source: str
    quote: str | None


@router.get("")
def list_targets(_: TargetReader, db: DbDep) -> list[TargetProgress]:
    """Every unretired target with goal, actual, value to date, percent, run-rate projection and outcome
    (achieved / missed for ended periods, on_track / behind for running ones)."""
    return [TargetProgress.model_validate(t) for t in targets.target_progress(db)]


@router.post("", status_code=status.HTTP_201_CREATED)
def create_target(data: TargetCreate, actor: AdminDep, db: DbDep) -> TargetRead:
    """Add a target (admin)."""
    return TargetRead.model_validate(targets.create_target(db, actor, data))


@router.patch("/{target_id}")
def update_target(target_id: int, data: TargetUpdate, actor: AdminDep, db: DbDep) -> TargetRead:
    """Change a target (admin); the result is checked as a whole, as on creation."""
    return TargetRead.model_validate(targets.update_target(db, actor, target_id, data))


@router.post("/{target_id}/retire")
def retire_target(target_id: int, actor: AdminDep, db: DbDep) -> TargetRead:
    """Stop showing a target (admin); its row and history stay."""
    return TargetRead.model_validate(targets.retire_target(db, actor, target_id))
