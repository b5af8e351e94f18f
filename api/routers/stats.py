"""Statistics: contract turnover by dimension, the matching funnel, live totals."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from api.deps import ActorDep, DbDep, require_roles
from api.routers.common import FieldCodeQ, RegionCodeQ
from models import Role
from models.schemas import IsoDate
from services import stats
from services.actor import Actor

router = APIRouter(prefix="/stats", tags=["statistics"])

GroupBy = Literal[
    "year",
    "quarter",
    "month",
    "city",
    "field",
    "contract_type",
    "org",
    "org_kind",
    "broker",
    "sub_center",
    "open_call",
]
StatsReader = Annotated[Actor, Depends(require_roles(Role.REGISTRAR))]
"""Turnover statistics are for administrators and registration agencies."""


class TurnoverRow(BaseModel):
    key: str
    label: str
    contracts: int
    contract_amount: Decimal
    registered_amount: Decimal
    tech_transaction_amount: Decimal


class FunnelStage(BaseModel):
    stage: str
    label: str
    count: int
    asking_amount: Decimal
    contract_amount: Decimal
    rate_from_previous: Decimal
    rate_from_start: Decimal


class Funnel(BaseModel):
    stages: list[FunnelStage]
    rejected: dict[str, int]
    total: int


class Totals(BaseModel):
    contracts: int
    contract_amount: Decimal
    tech_transaction_amount: Decimal
    registered_amount: Decimal
    paid_amount: Decimal
    open_needs: int
    open_achievements: int
    matches: int
    active_brokers: int
    brokers_counted: int
    member_units: int
    organizations: int


@dataclass
class Period:
    """Which contracts a statistic covers: a year and/or a date window, a field, a region."""

    year: Annotated[int | None, Query(ge=1990, le=2100)] = None
    start: IsoDate | None = None
    end: IsoDate | None = None
    field_code: FieldCodeQ = None
    region_code: RegionCodeQ = None


PeriodDep = Annotated[Period, Depends()]


@router.get("/turnover")
def turnover(_: StatsReader, db: DbDep, period: PeriodDep, group_by: GroupBy = "year") -> list[TurnoverRow]:
    """Contract turnover (技术合同成交额) grouped by period, city, field, type, organisation or broker."""
    rows = stats.turnover(db, group_by=group_by, **vars(period))
    return [TurnoverRow.model_validate(r) for r in rows]


@router.get("/funnel")
def funnel(_: StatsReader, db: DbDep, period: PeriodDep) -> Funnel:
    """How many matches reached each stage: suggested → accepted → negotiating → contracted."""
    return Funnel.model_validate(stats.funnel(db, **vars(period)))


@router.get("/totals")
def totals(_: ActorDep, db: DbDep) -> Totals:
    """Live totals of the trading hall (any signed-in caller)."""
    return Totals.model_validate(stats.totals(db))
