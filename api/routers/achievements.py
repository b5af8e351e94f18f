"""Technology achievements (科技成果): post, read, change, withdraw, list, bulk import, suggestions."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request, status
from fastapi.concurrency import run_in_threadpool

from api.deps import ActorDep, DbDep, IndexDep
from api.routers.common import (
    AchievementOut,
    AchievementSuggestion,
    FieldCodeQ,
    Id,
    ListParams,
    OrgParam,
    Page,
    RegionCodeQ,
    StatusChange,
    refuse_nulls,
)
from api.routers.imports import IMPORT_BODY, ImportFormat, read_import
from models import Achievement, CooperationMode, PostingStatus
from models.schemas import AchievementCreate, AchievementUpdate, Money
from services import postings
from services.imports import ImportResult, import_postings
from services.suggestions import SuggestionFilters, suggest_for

router = APIRouter(prefix="/achievements", tags=["achievements"])


@router.post("", status_code=status.HTTP_201_CREATED)
def create_achievement(
    data: AchievementCreate, actor: ActorDep, db: DbDep, index: IndexDep, org_id: OrgParam = None
) -> AchievementOut:
    """Post an achievement; it is indexed (and checked for near-duplicates) before the call returns."""
    return AchievementOut.model_validate(postings.create_achievement(db, index, actor, data, org_id=org_id))


@router.get("")
def list_achievements(
    actor: ActorDep, db: DbDep, params: Annotated[ListParams, Depends()]
) -> Page[AchievementOut]:
    """List achievements with filters, sorting and paging; confidential fields of others are masked."""
    page = postings.list_postings(
        db,
        actor,
        Achievement,
        field_code=params.field_code,
        region_code=params.region_code,
        status=params.status,
        org_id=params.org_id,
        q=params.q,
        sort=params.sort,
        offset=params.offset,
        limit=params.limit,
    )
    items = [AchievementOut.model_validate(i) for i in page.items]
    return Page[AchievementOut](items=items, total=page.total, offset=page.offset, limit=page.limit)


@router.post("/import", openapi_extra=IMPORT_BODY)
async def import_achievements(
    request: Request,
    actor: ActorDep,
    db: DbDep,
    index: IndexDep,
    format: ImportFormat = None,
    org_id: OrgParam = None,
    idempotency_key: Annotated[str | None, Header(max_length=128)] = None,
) -> ImportResult:
    """Import achievements from JSONL or CSV; rows are reported one by one, re-sent rows are skipped."""
    payload, fmt = await read_import(request, format)
    return await run_in_threadpool(
        import_postings,
        db,
        index,
        actor,
        "achievement",
        payload,
        fmt,
        idempotency_key=idempotency_key,
        org_id=org_id,
    )


@router.get("/{achievement_id}")
def read_achievement(achievement_id: Id, actor: ActorDep, db: DbDep) -> AchievementOut:
    """One need (confidential fields masked unless the caller may see them)."""
    return AchievementOut.model_validate(postings.get_posting(db, actor, Achievement, achievement_id))


@router.patch("/{achievement_id}")
def update_achievement(
    achievement_id: Id, data: AchievementUpdate, actor: ActorDep, db: DbDep, index: IndexDep
) -> AchievementOut:
    """Change an achievement (owner or admin); the index follows."""
    refuse_nulls(data, "achievement")
    return AchievementOut.model_validate(
        postings.update_posting(db, index, actor, Achievement, achievement_id, data)
    )


@router.post("/{achievement_id}/withdraw")
def withdraw_achievement(achievement_id: Id, actor: ActorDep, db: DbDep, index: IndexDep) -> AchievementOut:
    """Withdraw an achievement (owner or admin); it leaves the index."""
    return AchievementOut.model_validate(
        postings.set_status(db, index, actor, Achievement, achievement_id, PostingStatus.WITHDRAWN)
    )


@router.post("/{achievement_id}/status")
def set_achievement_status(
    achievement_id: Id, change: StatusChange, actor: ActorDep, db: DbDep, index: IndexDep
) -> AchievementOut:
    """Publish, close, re-open or withdraw an achievement, as the lifecycle allows."""
    return AchievementOut.model_validate(
        postings.set_status(db, index, actor, Achievement, achievement_id, change.status)
    )


@router.get("/{achievement_id}/suggestions")
def achievement_suggestions(
    achievement_id: Id,
    actor: ActorDep,
    db: DbDep,
    index: IndexDep,
    k: Annotated[int, Query(ge=1, le=100)] = 10,
    field_code: FieldCodeQ = None,
    region_code: RegionCodeQ = None,
    min_budget: Annotated[Money | None, Query(description="need budget_max at least")] = None,
    modes: Annotated[list[CooperationMode] | None, Query()] = None,
) -> list[AchievementSuggestion]:
    """Needs this achievement may solve, ranked, each with its explanation."""
    filters = SuggestionFilters(
        field_code=field_code,
        region_code=region_code,
        min_budget=min_budget,
        modes=tuple(m.value for m in modes) if modes else None,
    )
    hits = suggest_for(db, index, actor, Achievement, achievement_id, k=k, filters=filters)
    return [AchievementSuggestion.model_validate(h) for h in hits]
