"""What the engine knows about a posting, and the one function deciding what gets embedded."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from decimal import Decimal
from enum import StrEnum

__all__ = ["CONFIDENTIAL", "Posting", "Side", "posting_text", "redacted"]

CONFIDENTIAL = "confidential"


class Side(StrEnum):
    """The two collections: enterprise needs (技术需求) and achievements (科技成果)."""

    NEED = "need"
    ACHIEVEMENT = "achievement"

    @property
    def other(self) -> Side:
        """The side a posting of this side is matched against."""
        return Side.ACHIEVEMENT if self is Side.NEED else Side.NEED


@dataclass(frozen=True)
class Posting:
    """A need or an achievement as the matcher sees it (no DB types).

    For a need, ``maturity`` is the minimum maturity asked for (TRL 1..9) and ``budget_min``/
    ``budget_max`` its budget; for an achievement, ``maturity`` is its own and ``asking_price`` its price.
    """

    id: int
    side: Side
    title: str
    body: str
    keywords: tuple[str, ...] = ()
    field_code: str | None = None
    region_code: str | None = None
    org_id: int | None = None
    budget_min: Decimal | None = None
    budget_max: Decimal | None = None
    asking_price: Decimal | None = None
    maturity: int | None = None
    modes: frozenset[str] = field(default_factory=frozenset)
    status: str = "open"
    visibility: str = "public"

    def __post_init__(self) -> None:
        if self.id < 0:
            raise ValueError("posting ids must be non-negative")
        if self.maturity is not None and not 1 <= self.maturity <= 9:
            raise ValueError("maturity is a TRL level from 1 to 9")
        object.__setattr__(self, "side", Side(self.side))


def posting_text(posting: Posting, field_name: str | None = None) -> str:
    """The text that is embedded and indexed: title, body, keywords, and the field name (or code).

    Every component that embeds or indexes a posting must call this, so that stored embeddings,
    the lexical index and explanations all see the same text.
    """
    parts = [posting.title.strip(), posting.body.strip()]
    keywords = [k.strip() for k in posting.keywords if k.strip()]
    if keywords:
        parts.append("; ".join(keywords))
    field_label = (field_name or posting.field_code or "").strip()
    if field_label:
        parts.append(field_label)
    return "\n".join(p for p in parts if p)


def redacted(posting: Posting) -> Posting:
    """What another party may know of a confidential posting: no body, keywords, money or owner.

    Whatever is computed for such a party (explanations, filters on money) is computed from this view,
    so nothing derived from the hidden fields reaches them."""
    return replace(
        posting, body="", keywords=(), org_id=None, budget_min=None, budget_max=None, asking_price=None
    )
