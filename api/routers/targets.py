"""Turnover and platform targets with their progress (admins and registration agencies read, admins set)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Depends, status
from pydantic import BaseModel

from api.deps import AdminDep, DbDep, require_roles
from models import Role, TargetMetric
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
    period_start: date
    period_end: date
    value: Decimal
    baseline: Decimal | None
    source: str
    created_at: datetime


class TargetProgress(BaseModel):
    code: str
    name: str
    scope: str
    region_code: str | None
    region_name: str | None
    org_id: int | None
    metric: str
    unit: str
    period_start: date
    period_end: date
    as_of: date
    state: str
    value: int | Decimal
    baseline: Decimal | None
    actual: int | Decimal
    percent: Decimal | None
    projection: Decimal
    on_track: bool
    source: str


@router.get("")
def list_targets(_: TargetReader, db: DbDep) -> list[TargetProgress]:
    """Every target with its actual value, percent, run-rate projection and on-track flag."""
    return [TargetProgress.model_validate(t) for t in targets.target_progress(db)]


@router.post("", status_code=status.HTTP_201_CREATED)
def create_target(data: TargetCreate, actor: AdminDep, db: DbDep) -> TargetRead:
    """Add a target (admin)."""
    return TargetRead.model_validate(targets.create_target(db, actor, data))
