"""揭榜挂帅 open calls (榜单): publish, apply, recommend solvers, invite, award, accept milestones."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, status
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel

from api.deps import ActorDep, DbDep, IndexDep, require_roles
from api.routers.common import FieldCodeQ, Id, Limit, Offset, OrgParam, Page, RegionCodeQ
from models import CallForm, CallStatus, Role
from models.call_schemas import (
    ApplicationCreate,
    AwardRequest,
    CallCreate,
    CallUpdate,
    InvitationCreate,
    MilestoneVerdict,
)
from services import call_stats, calls, solvers
from services.actor import Actor

router = APIRouter(prefix="/calls", tags=["open calls"])
stats_router = APIRouter(prefix="/stats", tags=["statistics"])


class MilestoneOut(BaseModel):
    seq: int
    deliverable: str
    acceptance_criterion: str
    payment_share: Decimal
    due_months: int


class CallOut(BaseModel):
    """A call with the title, summary, field and region of the posting it wraps."""

    id: int
    form: CallForm
    status: CallStatus
    owner_org_id: int
    owner_name: str
    need_id: int | None
    achievement_id: int | None
    title: str
    summary: str
    field_code: str
    region_code: str
    keywords: list[str]
    indicators: list[dict[str, Any]]
    budget: Decimal
    application_deadline: datetime
    delivery_months: int
    max_teams: int
    eligibility: dict[str, Any]
    milestones: list[MilestoneOut]
    applications: int
    awarded_amount: Decimal
    paid_amount: Decimal
    published_at: datetime | None
    created_at: datetime
    updated_at: datetime


class AwardOut(CallOut):
    contract_ids: list[int]


class ApplicationOut(BaseModel):
    id: int
    call_id: int
    applicant_org_id: int
    applicant_name: str
    member_org_ids: list[int]
    member_names: list[str]
    proposal: str
    team: list[dict[str, Any]]
    price: Decimal
    schedule: str
    status: str
    contract_id: int | None
    created_at: datetime


class Justification(BaseModel):
    side: str
    posting_id: int
    kind: str
    title: str
    score: float
    explanation: dict[str, Any]


class SolverOut(BaseModel):
    """A recommended solver organisation and the postings that justify it."""

    rank: int
    org_id: int
    org_name: str
    org_kind: str
    region_code: str
    score: float
    best_score: float
    past_contracts: int
    invited: bool
    applied: bool
    justification: list[Justification]


class InvitationOut(BaseModel):
    id: int
    call_id: int
    org_id: int
    created_at: datetime


class PaymentOut(BaseModel):
    id: int
    contract_id: int
    amount: Decimal
    paid_on: date


class MilestoneResult(BaseModel):
    call_id: int
    seq: int
    application_id: int
    passed: bool
    payment: PaymentOut | None
    call_status: CallStatus


@router.post("", status_code=status.HTTP_201_CREATED)
def create_call(
    data: CallCreate, actor: ActorDep, db: DbDep, index: IndexDep, org_id: OrgParam = None
) -> CallOut:
    """Create a draft call over a need (揭榜攻关, 赛马制) or an achievement (揭榜转化), new or existing."""
    return CallOut.model_validate(calls.create_call(db, index, actor, data, org_id=org_id))


@router.get("")
def list_calls(
    actor: ActorDep,
    db: DbDep,
    form: CallForm | None = None,
    status: CallStatus | None = None,
    field_code: FieldCodeQ = None,
    region_code: RegionCodeQ = None,
    q: Annotated[str | None, Query(max_length=100, pattern=r"^[^\x00]*$")] = None,
    open_only: Annotated[bool, Query(description="published and before the deadline")] = False,
    offset: Offset = 0,
    limit: Limit = 20,
) -> Page[CallOut]:
    """Calls with filters (form, status, field, region, title); drafts only for their owner."""
    page = calls.list_calls(
        db,
        actor,
        form=form,
        status=status,
        field_code=field_code,
        region_code=region_code,
        q=q,
        open_only=open_only,
        offset=offset,
        limit=limit,
    )
    return Page[CallOut](
        items=[CallOut.model_validate(i) for i in page.items], total=page.total, offset=offset, limit=limit
    )


@router.get("/{call_id}")
def read_call(call_id: Id, actor: ActorDep, db: DbDep) -> CallOut:
    return CallOut.model_validate(calls.get_call(db, actor, call_id))


@router.patch("/{call_id}")
def update_call(call_id: Id, data: CallUpdate, actor: ActorDep, db: DbDep) -> CallOut:
    """Change a draft call (owner or admin)."""
    return CallOut.model_validate(calls.update_call(db, actor, call_id, data))


@router.post("/{call_id}/publish")
def publish_call(call_id: Id, actor: ActorDep, db: DbDep, index: IndexDep) -> CallOut:
    """Publish a draft call; applications open until its deadline."""
    return CallOut.model_validate(calls.publish_call(db, index, actor, call_id))


@router.post("/{call_id}/applications", status_code=status.HTTP_201_CREATED)
def apply(
    call_id: Id, data: ApplicationCreate, actor: ActorDep, db: DbDep, org_id: OrgParam = None
) -> ApplicationOut:
    """Apply (揭榜); late (application_deadline_passed) or ineligible (not_eligible) applications are refused."""
    return ApplicationOut.model_validate(calls.apply(db, actor, call_id, data, org_id=org_id))


@router.get("/{call_id}/applications")
def list_applications(call_id: Id, actor: ActorDep, db: DbDep) -> list[ApplicationOut]:
    """All applications for the owner and admins; only one's own for everyone else."""
    return [ApplicationOut.model_validate(a) for a in calls.list_applications(db, actor, call_id)]


@router.get("/{call_id}/recommendations")
async def recommend_solvers(
    call_id: Id, actor: ActorDep, db: DbDep, index: IndexDep, k: Annotated[int, Query(ge=1, le=50)] = 10
) -> list[SolverOut]:
    """Likely solvers (organisations) ranked by their matching achievements and past contracts; for
    揭榜转化, enterprises through their needs and scenes."""
    rows = await run_in_threadpool(solvers.recommend_solvers, db, index, actor, call_id, k=k)
    return [SolverOut.model_validate(r) for r in rows]


@router.post("/{call_id}/invitations", status_code=status.HTTP_201_CREATED)
def invite(call_id: Id, data: InvitationCreate, actor: ActorDep, db: DbDep) -> InvitationOut:
    """Record an invitation to a recommended solver (owner or admin)."""
    return InvitationOut.model_validate(calls.invite(db, actor, call_id, data))


@router.post("/{call_id}/award")
def award(call_id: Id, data: AwardRequest, actor: ActorDep, db: DbDep) -> AwardOut:
    """Award one application (several under 赛马制); each winner gets a technology contract."""
    return AwardOut.model_validate(calls.award(db, actor, call_id, data))


@router.post("/{call_id}/milestones/{seq}/accept")
def accept_milestone(
    call_id: Id,
    seq: Annotated[int, Path(ge=1, le=100)],
    data: MilestoneVerdict,
    actor: ActorDep,
    db: DbDep,
) -> MilestoneResult:
    """Accept (or fail) milestone ``seq`` of a team; a pass records the payment on its contract."""
    return MilestoneResult.model_validate(calls.accept_milestone(db, actor, call_id, seq, data))


class CallStats(BaseModel):
    calls: int
    by_status: dict[str, int]
    by_form: dict[str, int]
    by_field: list[dict[str, Any]]
    by_city: list[dict[str, Any]]
    budget_amount: Decimal
    awarded_amount: Decimal
    paid_amount: Decimal
    open_call_turnover: Decimal
    turnover: Decimal
    share_of_turnover: Decimal
    scenes: dict[str, Any]


@stats_router.get("/calls")
def call_statistics(
    _: Annotated[Actor, Depends(require_roles(Role.REGISTRAR))],
    db: DbDep,
    year: Annotated[int | None, Query(ge=1990, le=2100)] = None,
    field_code: FieldCodeQ = None,
    region_code: RegionCodeQ = None,
) -> CallStats:
    """揭榜挂帅 calls and 场景 scenes by status, form, field and city; budgets, awarded and paid amounts,
    and the open calls' share (%) of contract turnover (registrars and admins)."""
    return CallStats.model_validate(
        call_stats.summary(db, year=year, field_code=field_code, region_code=region_code)
    )
