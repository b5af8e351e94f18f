"""The posting change feed, written with every posting change in the writer's own transaction.

A session hook appends one `PostingChange` row per need or achievement inserted, updated or deleted
through the ORM, and on PostgreSQL queues a NOTIFY on the database's change channel (delivered when
the transaction commits, never for a rolled-back one). Followers (services/changefeed.py) read the
rows in ``seq`` order and re-read the postings they name: the database stays the truth.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import event, func, insert, select, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session as OrmSession

from models import Achievement, Need, PostingChange
from models.types import utc_now

__all__ = [
    "CHANGES",
    "CHANNEL_SQL",
    "REBUILD_MARKER",
    "announce_rebuild",
    "change_channel",
    "changes_since",
    "head_seq",
    "pg_listen_connection",
    "safe_start_seq",
]

# One channel per database and schema, so that test runs (one schema each) and tenants on one
# server never wake each other. 35 characters, under PostgreSQL's 63.
CHANNEL_SQL = "SELECT 'tm_changes_' || md5(current_database() || '.' || current_schema())"
_SIDES: dict[type, str] = {Need: "need", Achievement: "achievement"}
CHANGES = PostingChange.__table__.c  # type: ignore[attr-defined]
IN_FLIGHT = timedelta(seconds=60)
"""Longest a writing transaction is expected to stay open; followers re-read this much history."""


def change_channel(connection: Connection) -> str:
    return str(connection.execute(text(CHANNEL_SQL)).scalar_one())


def head_seq(connection: Connection) -> int:
    """The highest sequence number written so far (0 on an empty feed)."""
    return int(connection.execute(select(func.coalesce(func.max(CHANGES.seq), 0))).scalar_one())


def safe_start_seq(connection: Connection) -> int:
    """A cursor below every change that may still be uncommitted: the last seq older than IN_FLIGHT.

    Sequence numbers are taken at insert time but become visible at commit, so a follower that
    started at the head could miss a slower transaction's lower number; starting here re-applies at
    most a minute of changes, which is harmless (applying a change re-reads the posting)."""
    cutoff = utc_now() - IN_FLIGHT
    found = connection.execute(select(func.max(CHANGES.seq)).where(CHANGES.created_at < cutoff)).scalar_one()
    return int(found or 0)


@event.listens_for(OrmSession, "after_flush")
def _record_posting_changes(session: OrmSession, _context: Any) -> None:
    rows: list[dict[str, Any]] = []
    now = utc_now()
    for obj in (*session.new, *session.dirty, *session.deleted):
        side = _SIDES.get(type(obj))
        if side is None or getattr(obj, "id", None) is None:
            continue
        if obj in session.dirty and not session.is_modified(obj):
            continue
        rows.append({"side": side, "posting_id": obj.id, "created_at": now})
    if not rows:
        return
    connection = session.connection()
    connection.execute(insert(PostingChange), rows)
    if connection.dialect.name == "postgresql":
        connection.execute(text(f"SELECT pg_notify(({CHANNEL_SQL}), '')"))


def pg_listen_connection(engine: Engine) -> Any:
    """A dedicated autocommit psycopg connection listening on the change channel (PostgreSQL only)."""
    raw = engine.raw_connection()
    raw.detach()  # never returned to the pool: it sits in LISTEN for the process's lifetime
    dbapi = raw.driver_connection
    assert dbapi is not None
    dbapi.autocommit = True
    channel = dbapi.execute(CHANNEL_SQL).fetchone()[0]
    dbapi.execute(f'LISTEN "{channel}"')
    return dbapi


REBUILD_MARKER = "*"
"""The side of a change row that asks every follower to rebuild its index (a reindex job)."""


def changes_since(engine: Engine, seq: int) -> dict[str, list[int]]:
    """Posting ids changed after ``seq``, by side (rebuild markers left out)."""
    with engine.connect() as connection:
        rows = connection.execute(
            select(CHANGES.side, CHANGES.posting_id).where(CHANGES.seq > seq, CHANGES.side != REBUILD_MARKER)
        ).all()
    changed: dict[str, set[int]] = {}
    for side, posting_id in rows:
        changed.setdefault(side, set()).add(posting_id)
    return {side: sorted(ids) for side, ids in changed.items()}


def announce_rebuild(engine: Engine) -> int:
    """Append a rebuild marker to the feed; returns its seq."""
    with engine.begin() as connection:
        seq = connection.execute(
            insert(PostingChange)
            .values(side=REBUILD_MARKER, posting_id=0, created_at=utc_now())
            .returning(CHANGES.seq)
        ).scalar_one()
        if connection.dialect.name == "postgresql":
            connection.execute(text(f"SELECT pg_notify(({CHANNEL_SQL}), '')"))
    return int(seq)
