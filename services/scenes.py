"""Application scenes (场景): a scene is a need of kind 场景, a scene solution an achievement of kind 方案,
so posting, indexing, matching in both directions, filters and explanations are the postings' own.
What a scene adds: solutions submitted to it, and pilot agreements whose actual investment is the base
of the scene subsidy rule (M4)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from data.db import session_scope
from models import (
    Achievement,
    AchievementKind,
    Need,
    NeedKind,
    Organization,
    PilotAgreement,
    PostingStatus,
    SceneCategory,
    SceneSolution,
)
from models.call_schemas import PilotCreate, SceneCreate, SolutionCreate
from services import audit
from services.actor import Actor
from services.errors import ConflictError, InvalidInputError, NotFoundError, PermissionDeniedError
from services.index import IndexService
from services.postings import Page, add_posting, create_posting, list_postings, present
from services.suggestions import SuggestionFilters, suggest_for

__all__ = ["add_solution", "create_pilot", "create_scene", "list_scenes", "list_solutions", "recommend"]


def _scene(session: Session, scene_id: int) -> Need:
    scene = session.get(Need, scene_id)
    if scene is None or scene.kind != NeedKind.SCENE:
        raise NotFoundError(f"场景 {scene_id} 不存在", code="not_found")
    return scene


def create_scene(
    db: Engine, index: IndexService, actor: Actor, data: SceneCreate, org_id: int | None = None
) -> dict[str, Any]:
    """Publish a scene need (scene owners: enterprises; admins on behalf of a government body's unit)."""
    return create_posting(db, index, actor, data, org_id=org_id, kind=NeedKind.SCENE)


def list_scenes(
    db: Engine,
    actor: Actor,
    *,
    category: SceneCategory | None = None,
    status: PostingStatus | None = None,
    field_code: str | None = None,
    region_code: str | None = None,
    q: str | None = None,
    offset: int = 0,
    limit: int = 20,
) -> Page:
    return list_postings(
        db,
        actor,
        Need,
        kind=NeedKind.SCENE,
        category=category,
        status=status,
        field_code=field_code,
        region_code=region_code,
        q=q,
        offset=offset,
        limit=limit,
    )


def add_solution(
    db: Engine,
    index: IndexService,
    actor: Actor,
    scene_id: int,
    data: SolutionCreate,
    org_id: int | None = None,
) -> dict[str, Any]:
    """Post a scene solution (方案) for an open scene; it is also matched against every other scene."""
    with session_scope(db) as session:
        scene = _scene(session, scene_id)
        if scene.status != PostingStatus.OPEN:
            raise ConflictError("该场景已不再征集方案", code="scene_not_open")
        poster = org_id if actor.is_admin and org_id is not None else actor.org_id
        if poster == scene.org_id:  # checked before the posting enters the index
            raise InvalidInputError("场景发布单位不能为自己的场景提交方案", code="own_scene")
        if data.category is None:
            data = data.model_copy(update={"category": scene.category})
        row = add_posting(session, index, actor, data, org_id=org_id, kind=AchievementKind.SOLUTION)
        session.add(SceneSolution(scene_id=scene_id, achievement_id=row.id or 0))
        session.flush()
        return present(row, actor)


def list_solutions(db: Engine, actor: Actor, scene_id: int) -> list[dict[str, Any]]:
    """Solutions submitted to a scene, confidential ones masked as everywhere."""
    with Session(db) as session:
        _scene(session, scene_id)
        rows = session.exec(
            select(Achievement)
            .join(SceneSolution, col(SceneSolution.achievement_id) == Achievement.id)
            .where(SceneSolution.scene_id == scene_id)
            .order_by(col(Achievement.id))
        ).all()
        return [present(r, actor, session=session) for r in rows]


def recommend(
    db: Engine,
    index: IndexService,
    actor: Actor,
    scene_id: int,
    *,
    k: int = 10,
    kind: AchievementKind | None = None,
    filters: SuggestionFilters | None = None,
) -> list[dict[str, Any]]:
    """Solutions and achievements for a scene from the engine, optionally of one kind only."""
    with Session(db) as session:
        _scene(session, scene_id)
    hits = suggest_for(db, index, actor, Need, scene_id, k=k if kind is None else 4 * k, filters=filters)
    if kind is not None:
        hits = [h for h in hits if h["posting"]["kind"] == kind.value][:k]
    return hits


def create_pilot(db: Engine, actor: Actor, scene_id: int, data: PilotCreate) -> dict[str, Any]:
    """Record a pilot agreement on a scene (its owner or an admin), with the actual investment."""
    with session_scope(db) as session:
        scene = _scene(session, scene_id)
        if not (actor.is_admin or actor.org_id == scene.org_id):
            raise PermissionDeniedError("只有场景发布单位和管理员可以登记试点协议")
        provider = session.get(Organization, data.provider_org_id)
        if provider is None:
            raise NotFoundError(f"单位 {data.provider_org_id} 不存在", code="not_found")
        if provider.id == scene.org_id:
            raise InvalidInputError("试点提供方不能是场景发布单位", code="same_party")
        if data.solution_id is not None:
            solution = session.get(Achievement, data.solution_id)
            if solution is None or solution.org_id != provider.id:
                raise InvalidInputError("方案不属于该提供方", code="party_mismatch")
        pilot = PilotAgreement(
            scene_id=scene_id,
            owner_org_id=scene.org_id,
            provider_org_id=provider.id or 0,
            solution_id=data.solution_id,
            title=data.title,
            investment=data.investment,
            signed_on=data.signed_on,
            created_by=actor.user_id,
        )
        session.add(pilot)
        session.flush()
        audit.record(session, actor, "pilot_agreement", pilot.id or 0, "create", after=audit.snapshot(pilot))
        return {**(audit.snapshot(pilot) or {}), "investment": pilot.investment}
