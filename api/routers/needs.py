"""Technology needs (技术需求): post, read, change, withdraw, list, bulk import, suggestions."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request, status
from fastapi.concurrency import run_in_threadpool

from api.deps import ActorDep, DbDep, IndexDep
from api.routers.common import (
    FieldCodeQ,
    Id,
    ListParams,
    NeedOut,
    NeedSuggestion,
    OrgParam,
    Page,
    RegionCodeQ,
    StatusChange,
    refuse_nulls,
)
from api.routers.imports import IMPORT_BODY, ImportFormat, read_import
from models import CooperationMode, Maturity, Need, PostingStatus
from models.schemas import Money, NeedCreate, NeedUpdate
from services import postings
from services.imports import ImportResult, import_postings
from services.suggestions import SuggestionFilters, suggest_for

router = APIRouter(prefix="/needs", tags=["needs"])


@router.post("", status_code=status.HTTP_201_CREATED)
def create_need(
    data: NeedCreate, actor: ActorDep, db: DbDep, index: IndexDep, org_id: OrgParam = None
) -> NeedOut:
    """Post a need; it is indexed (and checked for near-duplicates) before the call returns."""
    return NeedOut.model_validate(postings.create_need(db, index, actor, data, org_id=org_id))


@router.get("")
def list_needs(actor: ActorDep, db: DbDep, params: Annotated[ListParams, Depends()]) -> Page[NeedOut]:
    """List needs with filters, sorting and paging; confidential fields of others are masked."""
    page = postings.list_postings(
        db,
        actor,
        Need,
        field_code=params.field_code,
        region_code=params.region_code,
        status=params.status,
        org_id=params.org_id,
        q=params.q,
        sort=params.sort,
        offset=params.offset,
        limit=params.limit,
    )
    items = [NeedOut.model_validate(i) for i in page.items]
    return Page[NeedOut](items=items, total=page.total, offset=page.offset, limit=page.limit)


@router.post("/import", openapi_extra=IMPORT_BODY)
async def import_needs(
    request: Request,
    actor: ActorDep,
    db: DbDep,
    index: IndexDep,
    format: ImportFormat = None,
    org_id: OrgParam = None,
    idempotency_key: Annotated[str | None, Header(max_length=128)] = None,
) -> ImportResult:
    """Import needs from JSONL or CSV; rows are reported one by one, re-sent rows are skipped."""
    payload, fmt = await read_import(request, format)
    return await run_in_threadpool(
        import_postings,
        db,
        index,
        actor,
        "need",
        payload,
        fmt,
        idempotency_key=idempotency_key,
        org_id=org_id,
    )


@router.get("/{need_id}")
def read_need(need_id: Id, actor: ActorDep, db: DbDep) -> NeedOut:
    """One need (confidential fields masked unless the caller may see them)."""
    return NeedOut.model_validate(postings.get_posting(db, actor, Need, need_id))


@router.patch("/{need_id}")
def update_need(need_id: Id, data: NeedUpdate, actor: ActorDep, db: DbDep, index: IndexDep) -> NeedOut:
    """Change a need (owner or admin); the index follows."""
    refuse_nulls(data, "need")
    return NeedOut.model_validate(postings.update_posting(db, index, actor, Need, need_id, data))


@router.post("/{need_id}/withdraw")
def withdraw_need(need_id: Id, actor: ActorDep, db: DbDep, index: IndexDep) -> NeedOut:
    """Withdraw a need (owner or admin); it leaves the index."""
    return NeedOut.model_validate(
        postings.set_status(db, index, actor, Need, need_id, PostingStatus.WITHDRAWN)
    )


@router.post("/{need_id}/status")
def set_need_status(
    need_id: Id, change: StatusChange, actor: ActorDep, db: DbDep, index: IndexDep
) -> NeedOut:
    """Publish, close, re-open or withdraw a need, as the lifecycle allows."""
    return NeedOut.model_validate(postings.set_status(db, index, actor, Need, need_id, change.status))


@router.get("/{need_id}/suggestions")
def need_suggestions(
    need_id: Id,
    actor: ActorDep,
    db: DbDep,
    index: IndexDep,
    k: Annotated[int, Query(ge=1, le=100)] = 10,
    field_code: FieldCodeQ = None,
    region_code: RegionCodeQ = None,
    max_price: Annotated[Money | None, Query(description="achievement asking_price at most")] = None,
    min_maturity: Maturity | None = None,
    modes: Annotated[list[CooperationMode] | None, Query()] = None,
) -> list[NeedSuggestion]:
    """Achievements that may solve this need, ranked, each with its explanation."""
    filters = SuggestionFilters(
        field_code=field_code,
        region_code=region_code,
        max_price=max_price,
        min_maturity=min_maturity,
        modes=tuple(m.value for m in modes) if modes else None,
    )
    hits = suggest_for(db, index, actor, Need, need_id, k=k, filters=filters)
    return [NeedSuggestion.model_validate(h) for h in hits]
