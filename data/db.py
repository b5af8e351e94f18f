"""Engine and session factory, the same on SQLite and PostgreSQL, and the migration guard."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.sql.dml import Insert
from sqlmodel import Session, SQLModel, create_engine


class NotMigratedError(RuntimeError):
    """The database schema is older than the code (or missing)."""


def create_db_engine(url: str, **kwargs: Any) -> Engine:
    """SQLite gets foreign keys enforced and WAL; PostgreSQL gets pre-ping. Both: no echo."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:" and not url.startswith("sqlite://?") and url != "sqlite://":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def insert_ignoring_duplicates(session: Session, model: type[SQLModel]) -> Insert:
    """``INSERT … ON CONFLICT DO NOTHING`` for the session's database (SQLite or PostgreSQL), for
    caches that concurrent writers may fill with the same rows. Execute it with a list of rows: one
    cached statement sent in batches, where a multi-row VALUES is compiled anew for every size."""
    name = session.get_bind().dialect.name
    if name == "postgresql":
        return postgresql.insert(model).on_conflict_do_nothing()
    if name == "sqlite":
        return sqlite.insert(model).on_conflict_do_nothing()
    raise NotImplementedError(f"no insert-or-ignore for the {name} dialect")


def lock_row(session: Session, model: type[SQLModel], row_id: int) -> bool:
    """Take the write lock on one row before reading what a change depends on; False if no such row.

    A no-op ``UPDATE`` works on every database: on PostgreSQL it row-locks like ``SELECT … FOR UPDATE``
    (and later statements of the transaction see what the previous holder committed); on SQLite, where
    ``FOR UPDATE`` is silently dropped, it is the transaction's first statement and takes the database
    write lock at once, so a read-check-write sequence (a payment against the amount left) is
    serialised instead of racing. Call it first in the transaction."""
    table = model.__table__  # type: ignore[attr-defined]
    result = session.execute(update(table).where(table.c.id == row_id).values(id=table.c.id))
    return bool(result.rowcount)  # type: ignore[attr-defined]


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


# The posting change feed is written by a session hook; registering it here means every process that
# opens a database through this module records its posting changes.
import data.changes  # noqa: E402, F401
