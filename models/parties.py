"""Who takes part: organisations, their users and API keys, and brokers."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from models.enums import BrokerStatus, CertificationLevel, OrgKind, Role
from models.types import UTCDateTime, enum_type, utc_now


class Organization(SQLModel, table=True):
    __tablename__ = "organizations"

    id: int | None = Field(default=None, primary_key=True)
    external_id: str | None = Field(default=None, max_length=64, unique=True)
    name: str = Field(max_length=200, index=True)
    kind: OrgKind = Field(index=True, sa_type=enum_type(OrgKind))
    uscc: str = Field(max_length=18, unique=True)
    region_code: str = Field(max_length=32, index=True)
    tags: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    is_member: bool = False
    created_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)


class User(SQLModel, table=True):
    __tablename__ = "users"

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=64, unique=True)
    display_name: str = Field(max_length=100)
    role: Role = Field(index=True, sa_type=enum_type(Role))
    org_id: int = Field(foreign_key="organizations.id", index=True)
    password_hash: str = Field(max_length=255)
    is_active: bool = True
    created_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)


class ApiKey(SQLModel, table=True):
    """A machine client's key: only a prefix (to find it) and a hash (to check it) are stored."""

    __tablename__ = "api_keys"

    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organizations.id", index=True)
    name: str = Field(max_length=100)
    prefix: str = Field(max_length=16, unique=True)
    key_hash: str = Field(max_length=255)
    role: Role = Field(sa_type=enum_type(Role))
    created_by: int = Field(foreign_key="users.id")
    created_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Broker(SQLModel, table=True):
    """A technology broker (技术经纪人): a user of a tt_agency with skills and a review capacity."""

    __tablename__ = "brokers"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", unique=True)
    org_id: int = Field(foreign_key="organizations.id", index=True)
    field_codes: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    region_codes: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    capacity: int = Field(default=20, ge=0)
    active: bool = True  # takes review assignments; kept equal to ``status == active`` by the registry
    # registry (技术经纪人 / 技术经理人): certification, 职称 track and standing
    certification_level: CertificationLevel | None = Field(
        default=None, sa_type=enum_type(CertificationLevel)
    )
    certificate_number: str | None = Field(default=None, max_length=64)
    certificate_issuer: str | None = Field(default=None, max_length=200)
    certified_on: date | None = None
    title_track: str | None = Field(default=None, max_length=64)
    status: BrokerStatus = Field(default=BrokerStatus.ACTIVE, sa_type=enum_type(BrokerStatus))
    created_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)
