"""Inputs of the "1242" registries (brokers' certification and training, member units, technology-transfer
institutions, influential achievements) and of target changes. Same rules as `models.schemas`."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Self

from pydantic import Field, model_validator

from models.enums import (
    BrokerStatus,
    CertificationLevel,
    InstitutionKind,
    InstitutionOrigin,
    MemberTier,
    Recognition,
    TargetKind,
)
from models.schemas import InputModel, Money, RegionCode

ShortText = Annotated[str, Field(min_length=1, max_length=200)]


class BrokerRegistryUpdate(InputModel):
    """Certification, 职称 track and standing of a broker; omitted fields stay as they are."""

    certification_level: CertificationLevel | None = None
    certificate_number: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    certificate_issuer: ShortText | None = None
    certified_on: date | None = None
    title_track: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    status: BrokerStatus | None = None


class TrainingCreate(InputModel):
    course: ShortText
    hours: Annotated[int, Field(ge=1, le=2000)]
    completed_on: date


class MembershipApply(InputModel):
    org_id: int | None = None  # admins apply on an organisation's behalf
    tier: MemberTier = MemberTier.MEMBER
    applied_on: date | None = None


class MembershipReview(InputModel):
    approve: bool
    note: Annotated[str, Field(max_length=500)] | None = None
    term_start: date | None = None
    term_years: Annotated[int, Field(ge=1, le=10)] = 3

    @model_validator(mode="after")
    def _note_for_rejection(self) -> Self:
        if not self.approve and not (self.note or "").strip():
            raise ValueError("a rejection needs a note")
        return self


class InstitutionCreate(InputModel):
    org_id: int
    kind: InstitutionKind
    origin: InstitutionOrigin
    since: date
    recognition: Recognition = Recognition.NONE
    recognized_year: Annotated[int, Field(ge=1990, le=2100)] | None = None

    @model_validator(mode="after")
    def _year_with_recognition(self) -> Self:
        if (self.recognition == Recognition.NONE) != (self.recognized_year is None):
            raise ValueError("recognized_year goes with a recognition (and only with one)")
        return self


class InfluentialFlagCreate(InputModel):
    reason: Annotated[str, Field(min_length=1, max_length=500)]


class TargetUpdate(InputModel):
    """A change to a target; omitted fields stay as they are. The kind's fields are re-checked together."""

    name: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    kind: TargetKind | None = None
    comparator: Annotated[str, Field(pattern=r"^(ge|gt)$")] | None = None
    region_code: RegionCode | None = None
    period_start: date | None = None
    period_end: date | None = None
    value: Money | None = None
    factor: Annotated[Decimal, Field(gt=0, le=1000, max_digits=12, decimal_places=8)] | None = None
    baseline_year: Annotated[int, Field(ge=1990, le=2100)] | None = None
    reference_region_code: RegionCode | None = None
    source: Annotated[str, Field(max_length=200)] | None = None
