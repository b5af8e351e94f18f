"""Needs and achievements: create, read, change, withdraw, list. Each change updates the index before
returning, and a new posting that nearly repeats an existing one is flagged."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from data.db import session_scope
from data.reference import is_known_field, is_known_region
from models import (
    Achievement,
    AchievementKind,
    Broker,
    Match,
    Need,
    NeedKind,
    Organization,
    OrgKind,
    PostingStatus,
    Role,
    SceneCategory,
    Visibility,
)
from models.schemas import (
    AchievementCreate,
    AchievementRead,
    AchievementUpdate,
    NeedCreate,
    NeedRead,
    NeedUpdate,
)
from models.transitions import LEDGER_POSTING_MOVES, POSTING_TRANSITIONS, check_transition
from models.types import utc_now
from services import audit
from services.actor import Actor
from services.errors import ConflictError, InvalidInputError, NotFoundError, PermissionDeniedError
from services.index import IndexService

NEED_OWNER_KINDS = frozenset({OrgKind.ENTERPRISE})
ACHIEVEMENT_OWNER_KINDS = frozenset(
    {OrgKind.UNIVERSITY, OrgKind.INSTITUTE, OrgKind.NEW_RD_INSTITUTION, OrgKind.ENTERPRISE}
)
PostingKind = NeedKind | AchievementKind


@dataclass(frozen=True)
class KindRule:
    """Who may post a kind of posting: the roles, and the kinds of organisation it may belong to."""

    roles: tuple[Role, ...]
    org_kinds: frozenset[OrgKind]


KIND_RULES: dict[PostingKind, KindRule] = {
    NeedKind.TECHNOLOGY: KindRule((Role.ENTERPRISE,), NEED_OWNER_KINDS),
    NeedKind.SCENE: KindRule((Role.ENTERPRISE,), NEED_OWNER_KINDS),
    AchievementKind.TECHNOLOGY: KindRule((Role.INSTITUTION,), ACHIEVEMENT_OWNER_KINDS),
    AchievementKind.SOLUTION: KindRule((Role.INSTITUTION, Role.ENTERPRISE), ACHIEVEMENT_OWNER_KINDS),
}
"""Needs and achievements come in kinds (a scene is a need of kind 场景, a scene solution an achievement
of kind 方案); every kind goes through the same service, index and engine."""
DEFAULT_KIND: dict[type[Need] | type[Achievement], PostingKind] = {
    Need: NeedKind.TECHNOLOGY,
    Achievement: AchievementKind.TECHNOLOGY,
}
CONFIDENTIAL_FIELDS = {
    "need": ("description", "budget_min", "budget_max", "keywords", "org_id"),
    "achievement": ("abstract", "asking_price", "ip_number", "keywords", "org_id"),
}
SORTABLE = {"created_at", "updated_at", "title", "id"}
Row = TypeVar("Row", Need, Achievement)


@dataclass(frozen=True)
class Page:
    items: list[dict[str, Any]]
    total: int
    offset: int
    limit: int


def check_codes(field_code: str | None, region_code: str | None) -> None:
    if field_code is not None and not is_known_field(field_code):
        raise InvalidInputError(
            f"unknown field code {field_code!r} (see GET /api/v1/reference/fields)", code="unknown_field_code"
        )
    if region_code is not None and not is_known_region(region_code):
        raise InvalidInputError(
            f"unknown region code {region_code!r} (see GET /api/v1/reference/regions)",
            code="unknown_region_code",
        )


def _owner_org(session: Session, actor: Actor, org_id: int | None, kinds: frozenset[OrgKind]) -> Organization:
    """The organisation a new posting belongs to: the actor's own, or any one an admin names."""
    target = org_id if actor.is_admin and org_id is not None else actor.org_id
    if target is None:
        raise InvalidInputError(
            "an org_id is needed to post on behalf of an organisation", code="org_required"
        )
    if not actor.is_admin and org_id is not None and org_id != actor.org_id:
        raise PermissionDeniedError("you can post only for your own organisation")
    org = session.get(Organization, target)
    if org is None:
        raise NotFoundError(f"organisation {target} not found")
    if org.kind not in kinds:
        raise PermissionDeniedError(f"an organisation of kind {org.kind.value!r} cannot post this")
    return org


def _check_external_id(
    session: Session, model: type[Need] | type[Achievement], org_id: int, external_id: str | None
) -> None:
    if external_id is None:
        return
    exists = session.exec(
        select(model.id).where(model.org_id == org_id, model.external_id == external_id)
    ).first()
    if exists is not None:
        raise ConflictError(
            f"external_id {external_id!r} already used by posting {exists}", code="duplicate_external_id"
        )


def create_need(
    db: Engine, index: IndexService, actor: Actor, data: NeedCreate, org_id: int | None = None
) -> dict[str, Any]:
    return create_posting(db, index, actor, data, org_id=org_id)


def create_achievement(
    db: Engine, index: IndexService, actor: Actor, data: AchievementCreate, org_id: int | None = None
) -> dict[str, Any]:
    return create_posting(db, index, actor, data, org_id=org_id)


def create_posting(
    db: Engine,
    index: IndexService,
    actor: Actor,
    data: NeedCreate | AchievementCreate,
    *,
    org_id: int | None = None,
    kind: PostingKind | None = None,
) -> dict[str, Any]:
    """Post a need or an achievement of any kind, in its own transaction."""
    with session_scope(db) as session:
        return present(
            add_posting(session, index, actor, data, org_id=org_id, kind=kind), actor, session=session
        )


def add_posting(
    session: Session,
    index: IndexService,
    actor: Actor,
    data: NeedCreate | AchievementCreate,
    *,
    org_id: int | None = None,
    kind: PostingKind | None = None,
) -> Need | Achievement:
    """Check and insert one posting in the caller's transaction (calls and scenes post through here)."""
    model: type[Need] | type[Achievement] = Need if isinstance(data, NeedCreate) else Achievement
    kind = kind or DEFAULT_KIND[model]
    if isinstance(kind, NeedKind) != (model is Need):
        raise InvalidInputError(f"a {_entity(model)} cannot be of kind {kind.value}", code="invalid_kind")
    rule = KIND_RULES[kind]
    actor.require(*rule.roles)
    org = _owner_org(session, actor, org_id, rule.org_kinds)
    check_codes(data.field_code, data.region_code)
    _check_external_id(session, model, org.id or 0, data.external_id)
    [row] = insert_postings(session, index, actor, org, [data], kind=kind)
    return row


def insert_postings(
    session: Session,
    index: IndexService,
    actor: Actor,
    org: Organization,
    items: Sequence[NeedCreate | AchievementCreate],
    *,
    kind: PostingKind | None = None,
) -> list[Need | Achievement]:
    """Store checked postings of one organisation, flag near-duplicates, audit and index them, all in
    the caller's transaction; a batch shares one encoding pass and one dense search."""
    if not items:
        return []
    now = utc_now()
    rows: list[Need | Achievement] = [_new_row(org, data, now, kind) for data in items]
    checked = index.check_new(session, rows)
    for row, flags in zip(rows, checked.flags, strict=True):
        row.duplicate_flags = flags
    session.add_all(rows)
    session.flush()
    index.add_new(rows, checked)
    session.flush()
    for entity in ("need", "achievement"):
        audit.record_created(session, actor, entity, [r for r in rows if _entity(type(r)) == entity])
    return rows


def _new_row(
    org: Organization, data: NeedCreate | AchievementCreate, now: datetime, kind: PostingKind | None
) -> Need | Achievement:
    """The row for a create request (timestamps and lists given, which also spares pydantic's slow
    default-factory inspection at thousands of rows per import)."""
    model: type[Need] | type[Achievement] = Need if isinstance(data, NeedCreate) else Achievement
    kind_value: Any = kind or DEFAULT_KIND[model]
    return model(
        kind=kind_value,
        org_id=org.id or 0,
        region_code=data.region_code or org.region_code,
        **data.model_dump(exclude={"region_code", "modes"}),
        modes=[m.value for m in data.modes],
        duplicate_flags=[],
        created_at=now,
        updated_at=now,
    )


def get_posting(db: Engine, actor: Actor, model: type[Row], posting_id: int) -> dict[str, Any]:
    with Session(db) as session:
        row = _get(session, model, posting_id)
        return present(row, actor, session=session)


def _get(session: Session, model: type[Row], posting_id: int) -> Row:
    row = session.get(model, posting_id)
    if row is None:
        raise NotFoundError(f"{_entity(model)} {posting_id} not found")
    return row


def _entity(model: type[Need] | type[Achievement]) -> str:
    return "need" if model is Need else "achievement"


def _require_owner(actor: Actor, row: Need | Achievement) -> None:
    if not actor.is_admin and actor.org_id != row.org_id:
        raise PermissionDeniedError("only the owning organisation can change this posting")


def update_posting(
    db: Engine,
    index: IndexService,
    actor: Actor,
    model: type[Row],
    posting_id: int,
    data: NeedUpdate | AchievementUpdate,
) -> dict[str, Any]:
    with session_scope(db) as session:
        row = _get(session, model, posting_id)
        _require_owner(actor, row)
        if row.status not in (
            PostingStatus.DRAFT,
            PostingStatus.OPEN,
            PostingStatus.MATCHED,
            PostingStatus.CONTRACTED,
        ):
            raise ConflictError(f"a {row.status.value} posting cannot be changed", code="invalid_transition")
        changes = data.model_dump(exclude_unset=True)
        check_codes(changes.get("field_code"), changes.get("region_code"))
        before = audit.snapshot(row)
        for name, value in changes.items():
            setattr(
                row,
                name,
                [getattr(m, "value", m) for m in value] if name == "modes" and value is not None else value,
            )
        _check_budget(row)
        row.updated_at = utc_now()
        session.add(row)
        audit.record(
            session, actor, _entity(model), posting_id, "update", before=before, after=audit.snapshot(row)
        )
        index.sync(session, row)
        return present(row, actor, session=session)


def _check_budget(row: Need | Achievement) -> None:
    if (
        isinstance(row, Need)
        and row.budget_min is not None
        and row.budget_max is not None
        and row.budget_min > row.budget_max
    ):
        raise InvalidInputError("budget_min must not exceed budget_max", code="invalid_budget")


def set_status(
    db: Engine, index: IndexService, actor: Actor, model: type[Row], posting_id: int, status: PostingStatus
) -> dict[str, Any]:
    """Withdraw, close or re-open a posting; the index follows."""
    with session_scope(db) as session:
        row = _get(session, model, posting_id)
        _require_owner(actor, row)
        check_transition(_entity(model), POSTING_TRANSITIONS, row.status, status)
        if (row.status, status) in LEDGER_POSTING_MOVES:
            raise ConflictError("“已签约”状态由技术合同自动设置和解除，不能手动修改", code="ledger_status")
        before = audit.snapshot(row, ("status",))
        row.status = status
        row.updated_at = utc_now()
        session.add(row)
        audit.record(
            session,
            actor,
            _entity(model),
            posting_id,
            f"status:{status.value}",
            before=before,
            after=audit.snapshot(row, ("status",)),
        )
        index.sync(session, row)
        return present(row, actor, session=session)


def can_see_confidential(session: Session | None, actor: Actor, row: Need | Achievement) -> bool:
    """Owner, admin, or a broker assigned to a match that involves this posting."""
    if actor.is_admin or actor.org_id == row.org_id:
        return True
    if actor.role != Role.BROKER or actor.broker_id is None or session is None:
        return False
    column = Match.need_id if isinstance(row, Need) else Match.achievement_id
    hit = session.exec(select(Match.id).where(column == row.id, Match.broker_id == actor.broker_id)).first()
    return hit is not None


def seen_confidential_ids(
    session: Session, actor: Actor, model: type[Need] | type[Achievement]
) -> frozenset[int] | None:
    """Ids of the confidential postings of ``model`` whose hidden fields the actor may see (the rule of
    `can_see_confidential`: own organisation's, and a broker's assigned matches'); None = all (admin)."""
    if actor.is_admin:
        return None
    ids: set[int] = set()
    if actor.org_id is not None:
        ids.update(
            i
            for i in session.exec(
                select(model.id).where(
                    model.org_id == actor.org_id, model.visibility == Visibility.CONFIDENTIAL
                )
            ).all()
            if i is not None
        )
    if actor.role == Role.BROKER and actor.broker_id is not None:
        column = Match.need_id if model is Need else Match.achievement_id
        ids.update(session.exec(select(column).where(Match.broker_id == actor.broker_id)).all())
    return frozenset(ids)


def present(row: Need | Achievement, actor: Actor, *, session: Session | None = None) -> dict[str, Any]:
    """The read model, with confidential fields masked for those who may not see them; near-duplicate
    flags that point at a posting the actor may not see are dropped too (they would tell its owner and
    how closely its hidden text resembles this one)."""
    schema = NeedRead if isinstance(row, Need) else AchievementRead
    data = schema.model_validate(row).model_dump(mode="json")
    if row.visibility == Visibility.CONFIDENTIAL and not can_see_confidential(session, actor, row):
        for name in CONFIDENTIAL_FIELDS["need" if isinstance(row, Need) else "achievement"]:
            data[name] = [] if name == "keywords" else None
        data["duplicate_flags"] = []
    elif data["duplicate_flags"] and not actor.is_admin:
        data["duplicate_flags"] = _visible_flags(session, actor, type(row), data["duplicate_flags"])
    return data


def _visible_flags(
    session: Session | None, actor: Actor, model: type[Need] | type[Achievement], flags: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    if session is None:
        return []
    ids = [int(f["existing_id"]) for f in flags]
    hidden = set(
        session.exec(
            select(model.id).where(col(model.id).in_(ids), model.visibility == Visibility.CONFIDENTIAL)
        ).all()
    )
    if hidden:
        hidden -= seen_confidential_ids(session, actor, model) or frozenset()
    return [f for f in flags if int(f["existing_id"]) not in hidden]


def list_postings(
    db: Engine,
    actor: Actor,
    model: type[Row],
    *,
    field_code: str | None = None,
    region_code: str | None = None,
    status: PostingStatus | None = None,
    org_id: int | None = None,
    q: str | None = None,
    kind: PostingKind | None = None,
    category: SceneCategory | None = None,
    sort: str = "-created_at",
    offset: int = 0,
    limit: int = 20,
) -> Page:
    descending = sort.startswith("-")
    key = sort.lstrip("-+")
    if key not in SORTABLE:
        raise InvalidInputError(
            f"cannot sort by {key!r}; choose one of {sorted(SORTABLE)}", code="invalid_sort"
        )
    conditions: list[Any] = []
    if field_code:
        conditions.append(col(model.field_code).startswith(field_code))
    if region_code:
        conditions.append(model.region_code == region_code)
    if status:
        conditions.append(model.status == status)
    if org_id is not None:
        conditions.append(model.org_id == org_id)
        if not (actor.is_admin or actor.org_id == org_id):  # the owner of a confidential posting is hidden
            conditions.append(model.visibility != Visibility.CONFIDENTIAL)
    if q:
        conditions.append(col(model.title).contains(q, autoescape=True))
    if kind is not None:
        conditions.append(model.kind == kind)
    if category is not None:
        conditions.append(model.category == category)
    with Session(db) as session:
        total = session.exec(select(func.count()).select_from(model).where(*conditions)).one()
        order = getattr(model, key)
        rows = session.exec(
            select(model)
            .where(*conditions)
            .order_by(order.desc() if descending else order.asc(), col(model.id))
            .offset(offset)
            .limit(limit)
        ).all()
        items = [present(r, actor, session=session) for r in rows]
    return Page(items=items, total=int(total), offset=offset, limit=limit)


def broker_for_user(session: Session, user_id: int) -> Broker | None:
    return session.exec(select(Broker).where(Broker.user_id == user_id)).first()
