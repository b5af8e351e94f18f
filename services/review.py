"""Broker review: the queue, a match's detail, accept/reject, reassignment.

Every change of a match goes through `change_match`: the transition is checked against
`MATCH_TRANSITIONS`, the row is updated with ``... WHERE version = expected`` (optimistic concurrency:
when two brokers decide at once exactly one update hits the row, the other gets ``stale_version``),
and the change is audited in the same transaction.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, update
from sqlalchemy.engine import CursorResult, Engine
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, col, select

from data.db import session_scope
from data.reference import field_name, is_known_field
from models import Achievement, Broker, Match, MatchStatus, Need, Role, Visibility
from models.schemas import MatchRead, ReviewDecision
from models.transitions import MATCH_TRANSITIONS, InvalidTransitionError, check_transition
from models.types import utc_now
from services import audit
from services.actor import Actor
from services.errors import ConflictError, InvalidInputError, NotFoundError, PermissionDeniedError
from services.postings import can_see_confidential, present

__all__ = [
    "broker_queue",
    "change_match",
    "checked_transition",
    "decide",
    "get_match",
    "get_match_detail",
    "match_view",
    "open_reviews",
    "reassign",
]

_AUDIT_FIELDS = (
    "status",
    "broker_id",
    "reject_reason",
    "decision_comment",
    "decided_by",
    "decided_at",
    "version",
)
_SORTS = {
    "score": col(Match.score),
    "rank": col(Match.rank),
    "created_at": col(Match.created_at),
    "updated_at": col(Match.updated_at),
    "id": col(Match.id),
}


def match_view(match: Match) -> dict[str, Any]:
    """The read model of a match, JSON-ready."""
    return MatchRead.model_validate(match).model_dump(mode="json")


def redacted_explanation(explanation: dict[str, Any]) -> dict[str, Any]:
    """A stored explanation for a viewer who may not see one side's confidential fields: its shared
    terms, best sentence and money flag came from hidden text and numbers, so they go."""
    return {
        **explanation,
        "shared_terms": [],
        "best_sentence": "",
        "flags": [f for f in explanation.get("flags", []) if f != "over_budget"],
        "redacted": True,
    }


def get_match(session: Session, match_id: int, *, for_update: bool = False) -> Match:
    query = select(Match).where(Match.id == match_id)
    if for_update:
        query = query.with_for_update()
    match = session.exec(query).first()
    if match is None:
        raise NotFoundError(f"match {match_id} not found")
    return match


def checked_transition(entity: str, table: Any, current: Any, target: Any) -> None:
    """`check_transition`, raised as a service conflict (code ``invalid_transition``)."""
    try:
        check_transition(entity, table, current, target)
    except InvalidTransitionError as exc:
        raise ConflictError(str(exc), code="invalid_transition") from exc


def _stale(match: Match, expected: int) -> ConflictError:
    return ConflictError(
        f"match {match.id} was changed by someone else (expected version {expected}); reload and retry",
        code="stale_version",
    )


def change_match(
    session: Session,
    actor: Actor,
    match: Match,
    target: MatchStatus,
    action: str,
    *,
    expected_version: int | None = None,
    **values: Any,
) -> Match:
    """Move a match to ``target`` (plus other column ``values``) if nobody changed it meanwhile."""
    expected = match.version if expected_version is None else expected_version
    if expected != match.version:
        raise _stale(match, expected)
    checked_transition("match", MATCH_TRANSITIONS, match.status, target)
    before = audit.snapshot(match, _AUDIT_FIELDS)
    changes = {"status": target, "version": expected + 1, "updated_at": utc_now(), **values}
    statement = (
        update(Match)
        .where(col(Match.id) == match.id, col(Match.version) == expected)
        .values(**changes)
        .execution_options(synchronize_session=False)
    )
    with session.no_autoflush:  # pending audit rows go in one batch at commit
        result: CursorResult[Any] = session.exec(statement)
    if result.rowcount != 1:
        raise _stale(match, expected)
    for name, value in changes.items():  # what the row now holds, without re-reading it
        set_committed_value(match, name, value)
    audit.record(
        session,
        actor,
        "match",
        match.id or 0,
        action,
        before=before,
        after=audit.snapshot(match, _AUDIT_FIELDS),
    )
    return match


def open_reviews(session: Session) -> dict[int, int]:
    """Matches each broker has assigned and not yet decided."""
    rows = session.exec(
        select(Match.broker_id, func.count())
        .where(Match.status == MatchStatus.ASSIGNED, col(Match.broker_id).is_not(None))
        .group_by(col(Match.broker_id))
    ).all()
    return {int(b): int(n) for b, n in rows if b is not None}


def _require_reviewer(actor: Actor, match: Match) -> None:
    """Only the assigned broker (or an admin) decides a match."""
    if actor.is_admin:
        return
    if actor.role != Role.BROKER or actor.broker_id is None or actor.broker_id != match.broker_id:
        raise PermissionDeniedError("only the broker assigned to this match (or an admin) can do this")


def is_participant(session: Session, actor: Actor, match: Match) -> bool:
    """Admin, the assigned broker, or a user of the need's or the achievement's organisation."""
    if actor.is_admin or (actor.broker_id is not None and actor.broker_id == match.broker_id):
        return True
    if actor.org_id is None:
        return False
    need = session.get(Need, match.need_id)
    achievement = session.get(Achievement, match.achievement_id)
    return actor.org_id in {getattr(need, "org_id", None), getattr(achievement, "org_id", None)}


def broker_queue(
    db: Engine,
    actor: Actor,
    *,
    status: MatchStatus | None = None,
    field_code: str | None = None,
    sort: str = "-score",
    offset: int = 0,
    limit: int = 50,
) -> list[dict[str, Any]]:
    """Matches to review: a broker sees only those assigned to them, an admin sees all."""
    actor.require(Role.BROKER)
    key = sort.lstrip("+-")
    if key not in _SORTS:
        raise InvalidInputError(
            f"cannot sort by {key!r}; choose one of {sorted(_SORTS)}", code="invalid_sort"
        )
    if field_code is not None and not is_known_field(field_code):
        raise InvalidInputError(f"unknown field code {field_code!r}", code="unknown_field_code")
    order = _SORTS[key].desc() if sort.startswith("-") else _SORTS[key].asc()
    query = select(Match, Need, Achievement).join(Need, col(Need.id) == Match.need_id)
    query = query.join(Achievement, col(Achievement.id) == Match.achievement_id)
    if not actor.is_admin:
        if actor.broker_id is None:
            raise PermissionDeniedError("this user is not registered as a broker")
        query = query.where(Match.broker_id == actor.broker_id)
    if status is not None:
        query = query.where(Match.status == status)
    if field_code is not None:
        query = query.where(col(Need.field_code).startswith(field_code))
    query = query.order_by(order, col(Match.id)).offset(max(offset, 0)).limit(min(max(limit, 1), 500))
    with Session(db) as session:
        rows = session.exec(query).all()
    return [_queue_row(m, n, a) for m, n, a in rows]


def _queue_row(match: Match, need: Need, achievement: Achievement) -> dict[str, Any]:
    top = need.field_code.split(".")[0]
    return {
        **match_view(match),
        "need_title": need.title,
        "achievement_title": achievement.title,
        "field_code": need.field_code,
        "field_name": field_name(top) if is_known_field(top) else top,
        "need_region_code": need.region_code,
        "achievement_region_code": achievement.region_code,
        "need_status": need.status.value,
        "achievement_status": achievement.status.value,
    }


def get_match_detail(db: Engine, actor: Actor, match_id: int) -> dict[str, Any]:
    """A match with both postings, confidential fields masked for those who may not see them."""
    with Session(db) as session:
        match = get_match(session, match_id)
        if not is_participant(session, actor, match):
            raise PermissionDeniedError("you are not a party, the broker or an admin of this match")
        need = session.get(Need, match.need_id)
        achievement = session.get(Achievement, match.achievement_id)
        assert need is not None and achievement is not None  # foreign keys
        view = match_view(match)
        if any(
            p.visibility == Visibility.CONFIDENTIAL and not can_see_confidential(session, actor, p)
            for p in (need, achievement)
        ):
            view["explanation"] = redacted_explanation(view.get("explanation") or {})
        return {
            "match": view,
            "need": present(need, actor, session=session),
            "achievement": present(achievement, actor, session=session),
        }


def decide(db: Engine, actor: Actor, match_id: int, decision: ReviewDecision) -> dict[str, Any]:
    """Accept (introduce the parties) or reject with a reason code."""
    with session_scope(db) as session:
        match = get_match(session, match_id)
        _require_reviewer(actor, match)
        target = MatchStatus.ACCEPTED if decision.accept else MatchStatus.REJECTED
        change_match(
            session,
            actor,
            match,
            target,
            "accept" if decision.accept else "reject",
            expected_version=decision.expected_version,
            reject_reason=None if decision.accept else decision.reason,
            decision_comment=decision.comment,
            decided_by=actor.user_id,
            decided_at=utc_now(),
        )
        return match_view(match)


def reassign(db: Engine, actor: Actor, match_id: int, broker_id: int) -> dict[str, Any]:
    """Give an undecided match to another broker (admin only); conflicts and capacity are checked."""
    actor.require()
    with session_scope(db) as session:
        match = get_match(session, match_id)
        broker = session.get(Broker, broker_id)
        if broker is None or not broker.active:
            raise NotFoundError(f"active broker {broker_id} not found")
        need = session.get(Need, match.need_id)
        achievement = session.get(Achievement, match.achievement_id)
        if broker.org_id in {getattr(need, "org_id", None), getattr(achievement, "org_id", None)}:
            raise ConflictError(
                f"broker {broker_id} works for a party of this match (conflict of interest)",
                code="conflict_of_interest",
            )
        if match.broker_id != broker_id and open_reviews(session).get(broker_id, 0) >= broker.capacity:
            raise ConflictError(f"broker {broker_id} has no free review capacity", code="broker_at_capacity")
        change_match(session, actor, match, MatchStatus.ASSIGNED, "reassign", broker_id=broker_id)
        return match_view(match)
