"""Shapes and query parameters that several routers share."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Path, Query
from pydantic import BaseModel, ConfigDict, Field

from models import PostingStatus
from models.schemas import AchievementRead, NeedRead
from models.validators import FIELD_CODE_PATTERN, REGION_CODE_PATTERN
from services.errors import InvalidInputError

T = TypeVar("T")

MAX_ID = 2**31 - 1
Id = Annotated[int, Path(ge=1, le=MAX_ID)]
"""A database id in a path (bounded so that no backend overflows on a huge number)."""

FieldCodeQ = Annotated[
    str | None,
    Query(max_length=16, pattern=FIELD_CODE_PATTERN.pattern, description="F02 or F02.03 (prefix match)"),
]
RegionCodeQ = Annotated[
    str | None,
    Query(
        max_length=32, pattern=REGION_CODE_PATTERN.pattern, description="6-digit code, parks + P + 2 digits"
    ),
]

OrgParam = Annotated[int | None, Query(ge=1, le=MAX_ID, description="admins: the organisation to act for")]

Offset = Annotated[int, Query(ge=0, le=1_000_000, description="items to skip")]
Limit = Annotated[int, Query(ge=1, le=200, description="page size")]


class Page(BaseModel, Generic[T]):
    """One page of a listing and the total number of items that match."""

    items: list[T]
    total: int
    offset: int
    limit: int


class StatusChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: PostingStatus


class Deleted(BaseModel):
    ok: bool = True


class NeedOut(NeedRead):
    """A need as the caller may see it (`services.postings.present` masks confidential fields)."""

    org_id: int | None = Field(description="null when the posting is confidential to the caller")


class AchievementOut(AchievementRead):
    """An achievement as the caller may see it (confidential fields masked)."""

    org_id: int | None = Field(description="null when the posting is confidential to the caller")


class NeedSuggestion(BaseModel):
    """An achievement suggested for a need."""

    rank: int
    score: float
    components: dict[str, float]
    explanation: dict[str, Any]
    posting: AchievementOut


class AchievementSuggestion(BaseModel):
    """A need suggested for an achievement."""

    rank: int
    score: float
    components: dict[str, float]
    explanation: dict[str, Any]
    posting: NeedOut


NULLABLE = {
    "need": frozenset({"budget_min", "budget_max", "min_maturity", "deadline"}),
    "achievement": frozenset({"trl", "ip_type", "ip_number", "asking_price"}),
}


def refuse_nulls(data: BaseModel, entity: str) -> None:
    """A PATCH may clear optional fields with null, never required ones (title, field, visibility…)."""
    cleared = sorted(k for k, v in data.model_dump(exclude_unset=True).items() if v is None)
    wrong = [k for k in cleared if k not in NULLABLE[entity]]
    if wrong:
        raise InvalidInputError(
            f"{', '.join(wrong)} cannot be null; leave it out to keep it", code="null_not_allowed"
        )


@dataclass
class ListParams:
    """Filters, sorting and paging of posting listings (`?field_code=&region_code=&status=&q=&sort=`)."""

    field_code: FieldCodeQ = None
    region_code: RegionCodeQ = None
    status: PostingStatus | None = None
    org_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None
    q: Annotated[
        str | None, Query(max_length=100, pattern=r"^[^\x00]*$", description="substring of the title")
    ] = None
    sort: Annotated[
        str,
        Query(pattern=r"^[-+]?(created_at|updated_at|title|id)$", description="field, '-' for descending"),
    ] = "-created_at"
    offset: Offset = 0
    limit: Limit = 20
