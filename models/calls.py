"""揭榜挂帅 open calls (榜单) and application scenes (场景).

A call wraps a posting of the engine's two sides: a need (揭榜攻关, 赛马制) or, for 揭榜转化, an
achievement; the posting carries the text, field and region that matching, filters and statistics use.
A scene is a need of kind 场景 and a scene solution an achievement of kind 方案 (`models.postings`);
the tables here hold only what a call or a scene adds: indicators, budget, deadline, milestones,
applications, awards, invitations, solutions submitted to a scene and pilot agreements.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.enums import ApplicationStatus, CallForm, CallStatus
from models.types import MONEY, RATE, UTCDateTime, enum_type, utc_now


class Call(SQLModel, table=True):
    """An open call. ``eligibility`` is data: {"org_kinds": [...], "region_scope": code | null,
    "consortium": bool}; ``indicators`` are measurable technical indicators (技术指标)."""

    __tablename__ = "calls"

    id: int | None = Field(default=None, primary_key=True)
    form: CallForm = Field(index=True, sa_type=enum_type(CallForm))
    owner_org_id: int = Field(foreign_key="organizations.id", index=True)
    need_id: int | None = Field(default=None, foreign_key="needs.id", unique=True)
    achievement_id: int | None = Field(default=None, foreign_key="achievements.id", unique=True)
    indicators: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    budget: Decimal = Field(sa_type=MONEY)
    application_deadline: datetime = Field(sa_type=UTCDateTime)
    delivery_months: int
    max_teams: int = 1
    eligibility: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    status: CallStatus = Field(default=CallStatus.DRAFT, index=True, sa_type=enum_type(CallStatus))
    published_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_by: int | None = Field(default=None, foreign_key="users.id")
    created_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)


class CallMilestone(SQLModel, table=True):
    """A milestone (里程碑): deliverable, acceptance criterion and its share of the payment."""

    __tablename__ = "call_milestones"

    id: int | None = Field(default=None, primary_key=True)
    call_id: int = Field(foreign_key="calls.id", index=True)
    seq: int
    deliverable: str = Field(max_length=500)
    acceptance_criterion: str = Field(max_length=1000)
    payment_share: Decimal = Field(sa_type=RATE)
    due_months: int

    __table_args__ = (UniqueConstraint("call_id", "seq", name="uq_call_milestone_seq"),)


class CallApplication(SQLModel, table=True):
    """A 揭榜申请 by an organisation, or a consortium led by it (``member_org_ids``)."""

    __tablename__ = "call_applications"

    id: int | None = Field(default=None, primary_key=True)
    call_id: int = Field(foreign_key="calls.id", index=True)
    applicant_org_id: int = Field(foreign_key="organizations.id", index=True)
    member_org_ids: list[int] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    proposal: str = Field(sa_column=Column(Text, nullable=False))
    team: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    price: Decimal = Field(sa_type=MONEY)
    schedule: str = Field(sa_column=Column(Text, nullable=False))
    status: ApplicationStatus = Field(
        default=ApplicationStatus.SUBMITTED, index=True, sa_type=enum_type(ApplicationStatus)
    )
    contract_id: int | None = Field(default=None, foreign_key="contracts.id", unique=True)
    created_by: int | None = Field(default=None, foreign_key="users.id")
    created_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)

    __table_args__ = (UniqueConstraint("call_id", "applicant_org_id", name="uq_call_applicant"),)


class MilestoneAcceptance(SQLModel, table=True):
    """The owner's verdict on one team's milestone; a pass records the payment it releases."""

    __tablename__ = "milestone_acceptances"

    id: int | None = Field(default=None, primary_key=True)
    call_id: int = Field(foreign_key="calls.id", index=True)
    seq: int
    application_id: int = Field(foreign_key="call_applications.id", index=True)
    passed: bool
    payment_id: int | None = Field(default=None, foreign_key="payments.id")
    accepted_on: date
    note: str = Field(default="", max_length=1000)
    created_by: int | None = Field(default=None, foreign_key="users.id")
    created_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)

    __table_args__ = (UniqueConstraint("call_id", "seq", "application_id", name="uq_milestone_team"),)


class CallInvitation(SQLModel, table=True):
    """An invitation to a recommended solver to apply."""

    __tablename__ = "call_invitations"

    id: int | None = Field(default=None, primary_key=True)
    call_id: int = Field(foreign_key="calls.id", index=True)
    org_id: int = Field(foreign_key="organizations.id", index=True)
    message: str = Field(default="", max_length=1000)
    invited_by: int | None = Field(default=None, foreign_key="users.id")
    created_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)

    __table_args__ = (UniqueConstraint("call_id", "org_id", name="uq_call_invitation"),)


class SceneSolution(SQLModel, table=True):
    """A solution (an achievement of kind 方案) submitted to a scene (a need of kind 场景)."""

    __tablename__ = "scene_solutions"

    id: int | None = Field(default=None, primary_key=True)
    scene_id: int = Field(foreign_key="needs.id", index=True)
    achievement_id: int = Field(foreign_key="achievements.id", unique=True)
    created_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)


class PilotAgreement(SQLModel, table=True):
    """A pilot (场景试点) agreed between a scene owner and a provider, with the owner's actual
    investment, the base of the scene subsidy rule (M4, base ``actual_investment``)."""

    __tablename__ = "pilot_agreements"

    id: int | None = Field(default=None, primary_key=True)
    scene_id: int = Field(foreign_key="needs.id", index=True)
    owner_org_id: int = Field(foreign_key="organizations.id", index=True)
    provider_org_id: int = Field(foreign_key="organizations.id", index=True)
    solution_id: int | None = Field(default=None, foreign_key="achievements.id")
    title: str = Field(max_length=200)
    investment: Decimal = Field(sa_type=MONEY)
    signed_on: date
    created_by: int | None = Field(default=None, foreign_key="users.id")
    created_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)
