"""Broker review of suggested matches, reassignment, and the negotiation that follows (在线洽谈)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, status
from pydantic import BaseModel, ConfigDict, Field

from api.deps import ActorDep, AdminDep, DbDep
from api.routers.common import MAX_ID, AchievementOut, FieldCodeQ, Id, Limit, NeedOut, Offset
from models import MatchStatus
from models.schemas import MatchRead, MessageCreate, ReviewDecision
from services import negotiation, review

router = APIRouter(prefix="/matches", tags=["matches"])


class QueueItem(MatchRead):
    need_title: str
    achievement_title: str
    field_code: str
    field_name: str
    need_region_code: str
    achievement_region_code: str


class MatchDetail(BaseModel):
    match: MatchRead
    need: NeedOut
    achievement: AchievementOut


class MessageRead(BaseModel):
    id: int
    match_id: int
    author_id: int
    body: str
    created_at: datetime


class Reassignment(BaseModel):
    model_config = ConfigDict(extra="forbid")
    broker_id: Annotated[int, Field(ge=1, le=MAX_ID)]


class StageChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    stage: MatchStatus
    expected_version: int | None = None


@router.get("")
def broker_queue(
    actor: ActorDep,
    db: DbDep,
    status: MatchStatus | None = None,
    field_code: FieldCodeQ = None,
    sort: Annotated[str, Query(pattern=r"^[-+]?(score|rank|created_at|updated_at|id)$")] = "-score",
    offset: Offset = 0,
    limit: Limit = 50,
) -> list[QueueItem]:
    """The review queue: a broker sees the matches assigned to them, an admin sees all."""
    rows = review.broker_queue(
        db, actor, status=status, field_code=field_code, sort=sort, offset=offset, limit=limit
    )
    return [QueueItem.model_validate(r) for r in rows]


@router.get("/{match_id}")
def read_match(match_id: Id, actor: ActorDep, db: DbDep) -> MatchDetail:
    """A match with its explanation and both postings (parties, assigned broker, admins)."""
    return MatchDetail.model_validate(review.get_match_detail(db, actor, match_id))


@router.post("/{match_id}/decision")
def decide(match_id: Id, decision: ReviewDecision, actor: ActorDep, db: DbDep) -> MatchRead:
    """Accept (introduce the parties) or reject with a reason code; the assigned broker or an admin."""
    return MatchRead.model_validate(review.decide(db, actor, match_id, decision))


@router.post("/{match_id}/reassign")
def reassign(match_id: Id, data: Reassignment, actor: AdminDep, db: DbDep) -> MatchRead:
    """Give an undecided match to another broker (admin); conflicts of interest are refused."""
    return MatchRead.model_validate(review.reassign(db, actor, match_id, data.broker_id))


@router.get("/{match_id}/messages")
def list_messages(match_id: Id, actor: ActorDep, db: DbDep) -> list[MessageRead]:
    """The negotiation messages, oldest first."""
    return [MessageRead.model_validate(m) for m in negotiation.list_messages(db, actor, match_id)]


@router.post("/{match_id}/messages", status_code=status.HTTP_201_CREATED)
def post_message(match_id: Id, data: MessageCreate, actor: ActorDep, db: DbDep) -> MessageRead:
    """Write to the other party; the first message opens the negotiation."""
    return MessageRead.model_validate(negotiation.post_message(db, actor, match_id, data))


@router.post("/{match_id}/stage")
def set_stage(match_id: Id, data: StageChange, actor: ActorDep, db: DbDep) -> MatchRead:
    """Move the negotiation on: negotiating, contracted, failed or withdrawn."""
    return MatchRead.model_validate(
        negotiation.set_stage(db, actor, match_id, data.stage, expected_version=data.expected_version)
    )
