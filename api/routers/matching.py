"""Running the matcher over stored postings and assigning the suggestions to brokers."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field

from api.deps import ActorDep, AdminDep, DbDep, IndexDep
from api.routers.common import MAX_ID
from services.assignment import assign_matches
from services.matching import MAX_K, run_matching

router = APIRouter(prefix="/matching", tags=["matching"])

PostingIds = Annotated[list[Annotated[int, Field(ge=1, le=MAX_ID)]], Field(max_length=10_000)]


class MatchingRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    need_ids: PostingIds | None = None
    achievement_ids: PostingIds | None = None
    k: Annotated[int, Field(ge=1, le=MAX_K)] = 10


class MatchingRun(BaseModel):
    needs_queried: int
    achievements_queried: int
    skipped_not_open: int
    suggestions: int
    created: int
    refreshed: int
    kept_decided: int
    engine_version: str
    k: int


class Unassigned(BaseModel):
    match_id: int
    reason: str


class AssignmentRun(BaseModel):
    considered: int
    assigned: int
    total_skill: float
    by_broker: dict[int, int]
    unassigned: list[Unassigned]
    unassigned_by_reason: dict[str, int]
    skipped_postings_closed: list[int]


@router.post("/run")
async def run(data: MatchingRequest, actor: ActorDep, db: DbDep, index: IndexDep) -> MatchingRun:
    """Store the top-k suggestions of the given postings (default: every open need and every
    achievement no need has reached yet) as matches to review (brokers and admins)."""
    summary = await run_in_threadpool(
        run_matching,
        db,
        index,
        actor,
        need_ids=data.need_ids,
        achievement_ids=data.achievement_ids,
        k=data.k,
    )
    return MatchingRun.model_validate(summary)


@router.post("/assign")
def assign(actor: AdminDep, db: DbDep) -> AssignmentRun:
    """Assign suggested matches to brokers by skill under capacity, never across a conflict of interest."""
    return AssignmentRun.model_validate(assign_matches(db, actor))
