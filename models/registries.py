"""The registries behind the "1242" goals: broker training, member units, technology-transfer
institutions and achievements an administrator flags as influential. Broker certification lives on
`Broker` itself (models.parties)."""

from __future__ import annotations

from datetime import date, datetime

from sqlmodel import Field, SQLModel

from models.enums import InstitutionKind, InstitutionOrigin, MembershipStatus, MemberTier, Recognition
from models.types import UTCDateTime, enum_type, utc_now


class BrokerTraining(SQLModel, table=True):
    """One completed training course of a broker (e.g. 技术合同认定登记, 技术市场法规)."""

    __tablename__ = "broker_trainings"

    id: int | None = Field(default=None, primary_key=True)
    broker_id: int = Field(foreign_key="brokers.id", index=True)
    course: str = Field(max_length=200)
    hours: int = Field(ge=1)
    completed_on: date
    created_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)


class Membership(SQLModel, table=True):
    """A member-unit (会员单位) application and, once approved, its term."""

    __tablename__ = "memberships"

    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organizations.id", index=True)
    tier: MemberTier = Field(default=MemberTier.MEMBER, sa_type=enum_type(MemberTier))
    status: MembershipStatus = Field(default=MembershipStatus.APPLIED, sa_type=enum_type(MembershipStatus))
    applied_on: date
    reviewed_on: date | None = None
    reviewed_by: int | None = Field(default=None, foreign_key="users.id")
    review_note: str | None = Field(default=None, max_length=500)
    term_start: date | None = None
    term_end: date | None = None
    created_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)


class TransferInstitution(SQLModel, table=True):
    """An organisation on the register of technology-transfer institutions (技术转移机构)."""

    __tablename__ = "transfer_institutions"

    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organizations.id", unique=True)
    kind: InstitutionKind = Field(sa_type=enum_type(InstitutionKind))
    origin: InstitutionOrigin = Field(sa_type=enum_type(InstitutionOrigin))
    since: date  # introduced into / cultivated in the province on this date
    recognition: Recognition = Field(default=Recognition.NONE, sa_type=enum_type(Recognition))
    recognized_year: int | None = None
    created_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)


class InfluentialFlag(SQLModel, table=True):
    """An administrator's judgement that an achievement's transfer is influential (有较大影响)."""

    __tablename__ = "influential_flags"

    id: int | None = Field(default=None, primary_key=True)
    achievement_id: int = Field(foreign_key="achievements.id", unique=True)
    reason: str = Field(max_length=500)
    flagged_by: int | None = Field(default=None, foreign_key="users.id")
    created_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)
