"""Online negotiation (在线洽谈) on an accepted match: messages and the negotiation stage.

Only the two parties' users, the assigned broker and admins take part. The first message on an
accepted match opens the negotiation (accepted → negotiating); the stage then ends as contracted,
failed or withdrawn.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from data.db import session_scope
from models import Match, MatchStatus, Message
from models.schemas import MessageCreate
from services import audit
from services.actor import Actor
from services.errors import ConflictError, InvalidInputError, PermissionDeniedError
from services.review import change_match, get_match, is_participant, match_view

__all__ = ["STAGES", "list_messages", "post_message", "set_stage"]

STAGES = frozenset(
    {MatchStatus.NEGOTIATING, MatchStatus.CONTRACTED, MatchStatus.FAILED, MatchStatus.WITHDRAWN}
)
_OPEN_FOR_MESSAGES = frozenset({MatchStatus.ACCEPTED, MatchStatus.NEGOTIATING})
_BROKER_ONLY = frozenset({MatchStatus.CONTRACTED})


def _participant_match(session: Session, actor: Actor, match_id: int) -> Match:
    match = get_match(session, match_id)
    if not is_participant(session, actor, match):
        raise PermissionDeniedError("only the two parties, the assigned broker and admins take part")
    return match


def _message_view(message: Message) -> dict[str, Any]:
    return {
        "id": message.id,
        "match_id": message.match_id,
        "author_id": message.author_id,
        "body": message.body,
        "created_at": message.created_at.isoformat(),
    }


def post_message(db: Engine, actor: Actor, match_id: int, data: MessageCreate) -> dict[str, Any]:
    """Add a message; the first one on an accepted match starts the negotiation."""
    if actor.user_id is None:
        raise InvalidInputError("a message needs a user as its author", code="user_required")
    with session_scope(db) as session:
        match = _participant_match(session, actor, match_id)
        if match.status not in _OPEN_FOR_MESSAGES:
            raise ConflictError(
                f"messages are possible on accepted or negotiating matches, this one is {match.status.value}",
                code="invalid_transition",
            )
        if match.status == MatchStatus.ACCEPTED:
            change_match(session, actor, match, MatchStatus.NEGOTIATING, "stage:negotiating")
        message = Message(match_id=match_id, author_id=actor.user_id, body=data.body)
        session.add(message)
        session.flush()
        audit.record(session, actor, "message", message.id or 0, "create", after={"match_id": match_id})
        return _message_view(message)


def list_messages(db: Engine, actor: Actor, match_id: int) -> list[dict[str, Any]]:
    """The conversation of a match, oldest first."""
    with Session(db) as session:
        _participant_match(session, actor, match_id)
        rows = session.exec(
            select(Message)
            .where(Message.match_id == match_id)
            .order_by(col(Message.created_at), col(Message.id))
        ).all()
        return [_message_view(m) for m in rows]


def set_stage(
    db: Engine, actor: Actor, match_id: int, stage: MatchStatus, *, expected_version: int | None = None
) -> dict[str, Any]:
    """Move the negotiation on: negotiating, then contracted, failed or withdrawn.

    Marking a match contracted without a contract is left to the broker or an admin; normally
    `services.contracts.create_contract` does it.
    """
    if stage not in STAGES:
        raise InvalidInputError(
            f"stage must be one of {sorted(s.value for s in STAGES)}", code="invalid_stage"
        )
    with session_scope(db) as session:
        match = _participant_match(session, actor, match_id)
        if stage in _BROKER_ONLY and not (actor.is_admin or actor.broker_id == match.broker_id):
            raise PermissionDeniedError("only the assigned broker or an admin marks a match contracted")
        change_match(session, actor, match, stage, f"stage:{stage.value}", expected_version=expected_version)
        return match_view(match)
