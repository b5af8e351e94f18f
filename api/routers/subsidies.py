"""Subsidies that the policy rules derive from contracts, and the rules themselves (admin)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Query, status
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel

from api.deps import AdminDep, DbDep
from models import PolicyBase, PolicyPer
from models.schemas import PolicyRuleCreate
from services import subsidies

router = APIRouter(tags=["subsidies"])
Year = Annotated[int, Query(ge=1990, le=2100)]


class SubsidyRow(BaseModel):
    rule_code: str
    rule_name: str
    year: int
    base: str
    per: str
    period: str
    beneficiary_org_id: int
    beneficiary_name: str
    beneficiary_kind: str
    beneficiary_region_code: str
    contract_id: int | None
    contract_number: str | None
    call_id: int | None = None
    pilot_agreement_id: int | None = None
    base_amount: Decimal
    earlier_base_amount: Decimal
    rate: Decimal
    cap: Decimal | None
    uncapped_amount: Decimal
    earlier_subsidy: Decimal
    subsidy: Decimal
    capped: bool


class PolicyRuleRead(BaseModel):
    id: int
    code: str
    name: str
    rate: Decimal
    base: PolicyBase
    cap: Decimal | None
    per: PolicyPer
    period: str
    region_code: str | None
    source: str
    active: bool
    created_at: datetime


@router.get("/subsidies")
async def list_subsidies(_: AdminDep, db: DbDep, year: Year) -> list[SubsidyRow]:
    """What every active policy rule yields for a year, per beneficiary (and project)."""
    rows = await run_in_threadpool(subsidies.compute_subsidies, db, year=year)
    return [SubsidyRow.model_validate(r) for r in rows]


@router.get("/policy-rules")
def list_policy_rules(actor: AdminDep, db: DbDep, active_only: bool = False) -> list[PolicyRuleRead]:
    """The subsidy rules, by code, each citing the policy text it comes from."""
    return [
        PolicyRuleRead.model_validate(r)
        for r in subsidies.list_policy_rules(db, actor, active_only=active_only)
    ]


@router.post("/policy-rules", status_code=status.HTTP_201_CREATED)
def create_policy_rule(data: PolicyRuleCreate, actor: AdminDep, db: DbDep) -> PolicyRuleRead:
    """Add a subsidy rule: min(rate × base, cap) per project, unit or registrar and period."""
    return PolicyRuleRead.model_validate(subsidies.create_policy_rule(db, actor, data))
