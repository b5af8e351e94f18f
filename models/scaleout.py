"""What several processes share through the database: the posting change feed and the durable jobs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Index, Integer, Text
from sqlmodel import Field, SQLModel

from models.types import UTCDateTime, utc_now


class PostingChange(SQLModel, table=True):
    """One row per posting written (insert, update, delete), in commit-ish order of ``seq``.

    Every process that holds an in-memory index follows this table (services/changefeed.py) and
    re-reads the named postings, so a write through any API worker reaches every worker's index."""

    __tablename__ = "posting_changes"

    seq: int | None = Field(
        default=None,
        # SQLite numbers rows itself only for a column declared exactly INTEGER PRIMARY KEY
        sa_column=Column(
            BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
        ),
    )
    side: str = Field(max_length=16)
    posting_id: int
    created_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)


class Job(SQLModel, table=True):
    """A durable background job: queued until a runner claims it, then running under a lease that the
    runner's heartbeat renews; a lost lease puts it back in the queue (or fails it after the last
    attempt). Progress, checkpoint, result and error live here, so any process can report on it."""

    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_status_id", "status", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=32, index=True)
    status: str = Field(default="queued", max_length=16)
    params: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    done: int = 0
    total: int | None = None
    checkpoint: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    result: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    attempts: int = 0
    max_attempts: int = 3
    worker: str | None = Field(default=None, max_length=128)
    created_by: int | None = None
    created_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)
    started_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    heartbeat_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
