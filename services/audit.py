"""Append-only audit log: every state change is written in the same transaction as the change."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from sqlalchemy import insert
from sqlmodel import Session, SQLModel

from models import AuditEvent
from models.types import utc_now
from services.actor import Actor


def snapshot(row: SQLModel | None, fields: tuple[str, ...] | None = None) -> dict[str, Any] | None:
    """A JSON-safe copy of a row's columns (money as strings, so no precision is lost)."""
    if row is None:
        return None
    data = row.model_dump(include=set(fields) if fields else None)
    return {k: _jsonable(v) for k, v in data.items()}


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, bytes):
        return None
    return value


def record(
    session: Session,
    actor: Actor,
    entity: str,
    entity_id: int,
    action: str,
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    session.add(
        AuditEvent(
            actor_id=actor.user_id,
            entity=entity,
            entity_id=entity_id,
            action=action,
            before=before,
            after=after,
        )
    )


def record_created(session: Session, actor: Actor, entity: str, rows: Sequence[SQLModel]) -> None:
    """One "create" event per freshly flushed row, sent as one batched insert (bulk imports)."""
    if not rows:
        return
    at = utc_now()
    session.execute(
        insert(AuditEvent),
        [
            {
                "at": at,
                "actor_id": actor.user_id,
                "entity": entity,
                "entity_id": getattr(row, "id", None) or 0,
                "action": "create",
                "before": None,
                "after": snapshot(row),
            }
            for row in rows
        ],
    )
