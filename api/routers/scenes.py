"""Application scenes (场景): scene needs, scene solutions, their matches and pilot agreements."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Query, status
from pydantic import BaseModel

from api.deps import ActorDep, DbDep, IndexDep
from api.routers.common import (
    AchievementOut,
    FieldCodeQ,
    Id,
    Limit,
    NeedOut,
    NeedSuggestion,
    Offset,
    OrgParam,
    Page,
    RegionCodeQ,
)
from models import AchievementKind, PostingStatus, SceneCategory
from models.call_schemas import PilotCreate, SceneCreate, SolutionCreate
from services import scenes
from services.suggestions import SuggestionFilters

router = APIRouter(prefix="/scenes", tags=["scenes"])


class PilotOut(BaseModel):
    id: int
    scene_id: int
    owner_org_id: int
    provider_org_id: int
    solution_id: int | None
    title: str
    investment: Decimal
    signed_on: date
    created_at: datetime


@router.post("", status_code=status.HTTP_201_CREATED)
def create_scene(
    data: SceneCreate, actor: ActorDep, db: DbDep, index: IndexDep, org_id: OrgParam = None
) -> NeedOut:
    """Publish a scene need (a need of kind 场景); it is matched like every need."""
    return NeedOut.model_validate(scenes.create_scene(db, index, actor, data, org_id=org_id))


@router.get("")
def list_scenes(
    actor: ActorDep,
    db: DbDep,
    category: SceneCategory | None = None,
    status: PostingStatus | None = None,
    field_code: FieldCodeQ = None,
    region_code: RegionCodeQ = None,
    q: Annotated[str | None, Query(max_length=100, pattern=r"^[^\x00]*$")] = None,
    offset: Offset = 0,
    limit: Limit = 20,
) -> Page[NeedOut]:
    """Scenes by category, status, field and region; confidential fields of others are masked."""
    page = scenes.list_scenes(
        db,
        actor,
        category=category,
        status=status,
        field_code=field_code,
        region_code=region_code,
        q=q,
        offset=offset,
        limit=limit,
    )
    return Page[NeedOut](
        items=[NeedOut.model_validate(i) for i in page.items], total=page.total, offset=offset, limit=limit
    )


@router.post("/{scene_id}/solutions", status_code=status.HTTP_201_CREATED)
def add_solution(
    scene_id: Id, data: SolutionCreate, actor: ActorDep, db: DbDep, index: IndexDep, org_id: OrgParam = None
) -> AchievementOut:
    """Submit a scene solution (an achievement of kind 方案) to a scene."""
    return AchievementOut.model_validate(scenes.add_solution(db, index, actor, scene_id, data, org_id=org_id))


@router.get("/{scene_id}/solutions")
def list_solutions(scene_id: Id, actor: ActorDep, db: DbDep) -> list[AchievementOut]:
    """Solutions submitted to the scene."""
    return [AchievementOut.model_validate(r) for r in scenes.list_solutions(db, actor, scene_id)]


@router.get("/{scene_id}/recommendations")
def recommend(
    scene_id: Id,
    actor: ActorDep,
    db: DbDep,
    index: IndexDep,
    k: Annotated[int, Query(ge=1, le=100)] = 10,
    kind: AchievementKind | None = None,
    field_code: FieldCodeQ = None,
    region_code: RegionCodeQ = None,
) -> list[NeedSuggestion]:
    """Solutions and achievements for the scene from the engine, each with its explanation (the other
    direction is GET /achievements/{id}/suggestions of a solution)."""
    filters = SuggestionFilters(field_code=field_code, region_code=region_code)
    hits = scenes.recommend(db, index, actor, scene_id, k=k, kind=kind, filters=filters)
    return [NeedSuggestion.model_validate(h) for h in hits]


@router.post("/{scene_id}/pilots", status_code=status.HTTP_201_CREATED)
def create_pilot(scene_id: Id, data: PilotCreate, actor: ActorDep, db: DbDep) -> PilotOut:
    """Record a pilot agreement with its actual investment (scene owner or admin); rule M4 pays 20%."""
    return PilotOut.model_validate(scenes.create_pilot(db, actor, scene_id, data))
