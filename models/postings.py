"""What is matched: needs (技术需求) and achievements (科技成果), the matches between them and the
negotiation messages on a match."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.enums import (
    AchievementKind,
    IPType,
    MatchStatus,
    Maturity,
    NeedKind,
    PostingStatus,
    RejectReason,
    SceneCategory,
    Visibility,
)
from models.types import MONEY, UTCDateTime, enum_type, utc_now


class Need(SQLModel, table=True):
    __tablename__ = "needs"

    id: int | None = Field(default=None, primary_key=True)
    external_id: str | None = Field(default=None, max_length=64)
    org_id: int = Field(foreign_key="organizations.id", index=True)
    kind: NeedKind = Field(default=NeedKind.TECHNOLOGY, index=True, sa_type=enum_type(NeedKind))
    category: SceneCategory | None = Field(default=None, sa_type=enum_type(SceneCategory))
    title: str = Field(max_length=200)
    description: str = Field(sa_column=Column(Text, nullable=False))
    field_code: str = Field(max_length=16, index=True)
    keywords: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    region_code: str = Field(max_length=32, index=True)
    budget_min: Decimal | None = Field(default=None, sa_type=MONEY)
    budget_max: Decimal | None = Field(default=None, sa_type=MONEY)
    modes: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    min_maturity: Maturity | None = Field(default=None, sa_type=enum_type(Maturity))
    deadline: date | None = None
    visibility: Visibility = Field(default=Visibility.PUBLIC, sa_type=enum_type(Visibility))
    status: PostingStatus = Field(default=PostingStatus.OPEN, index=True, sa_type=enum_type(PostingStatus))
    duplicate_flags: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    created_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)

    __table_args__ = (
        UniqueConstraint("org_id", "external_id", name="uq_need_org_external"),
        Index("ix_needs_created_at_id", "created_at", "id"),
    )


class Achievement(SQLModel, table=True):
    __tablename__ = "achievements"

    id: int | None = Field(default=None, primary_key=True)
    external_id: str | None = Field(default=None, max_length=64)
    org_id: int = Field(foreign_key="organizations.id", index=True)
    kind: AchievementKind = Field(
        default=AchievementKind.TECHNOLOGY, index=True, sa_type=enum_type(AchievementKind)
    )
    category: SceneCategory | None = Field(default=None, sa_type=enum_type(SceneCategory))
    title: str = Field(max_length=200)
    abstract: str = Field(sa_column=Column(Text, nullable=False))
    field_code: str = Field(max_length=16, index=True)
    keywords: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    region_code: str = Field(max_length=32, index=True)
    maturity: Maturity = Field(default=Maturity.LABORATORY, sa_type=enum_type(Maturity))
    trl: int | None = Field(default=None, ge=1, le=9)
    ip_type: IPType | None = Field(default=None, sa_type=enum_type(IPType))
    ip_number: str | None = Field(default=None, max_length=64)
    asking_price: Decimal | None = Field(default=None, sa_type=MONEY)
    modes: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    visibility: Visibility = Field(default=Visibility.PUBLIC, sa_type=enum_type(Visibility))
    status: PostingStatus = Field(default=PostingStatus.OPEN, index=True, sa_type=enum_type(PostingStatus))
    duplicate_flags: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    created_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)

    __table_args__ = (
        UniqueConstraint("org_id", "external_id", name="uq_achievement_org_external"),
        Index("ix_achievements_created_at_id", "created_at", "id"),
    )


class Match(SQLModel, table=True):
    """A suggested pairing and its review. ``version`` guards against two brokers deciding at once."""

    __tablename__ = "matches"

    id: int | None = Field(default=None, primary_key=True)
    need_id: int = Field(foreign_key="needs.id", index=True)
    achievement_id: int = Field(foreign_key="achievements.id", index=True)
    score: float
    rank: int
    components: dict[str, float] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    explanation: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    engine_version: str = Field(max_length=200)
    broker_id: int | None = Field(default=None, foreign_key="brokers.id", index=True)
    status: MatchStatus = Field(default=MatchStatus.SUGGESTED, index=True, sa_type=enum_type(MatchStatus))
    reject_reason: RejectReason | None = Field(default=None, sa_type=enum_type(RejectReason))
    decision_comment: str | None = Field(default=None, max_length=1000)
    decided_by: int | None = Field(default=None, foreign_key="users.id")
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    version: int = 1
    created_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)

    __table_args__ = (UniqueConstraint("need_id", "achievement_id", name="uq_match_pair"),)


class Message(SQLModel, table=True):
    """A negotiation message (在线洽谈) on a match."""

    __tablename__ = "messages"

    id: int | None = Field(default=None, primary_key=True)
    match_id: int = Field(foreign_key="matches.id", index=True)
    author_id: int = Field(foreign_key="users.id")
    body: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)


class EmbeddingCache(SQLModel, table=True):
    """Vectors by content hash and encoder, so rebuilding the index does not re-encode unchanged text."""

    __tablename__ = "embedding_cache"

    content_hash: str = Field(primary_key=True, max_length=64)
    encoder: str = Field(primary_key=True, max_length=200)
    dim: int
    vector: bytes
