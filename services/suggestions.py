"""Live suggestions for one posting, in either direction, under the natural hard filters plus the
caller's own (field, region, price or budget, maturity, modes)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from matcher.filters import PostingFilter
from matcher.postings import redacted
from models import Achievement, Maturity, Need, Role, Visibility
from services.actor import Actor
from services.errors import NotFoundError, PermissionDeniedError
from services.index import CANDIDATE_STATUSES, IndexService, maturity_trl, to_posting
from services.postings import can_see_confidential, check_codes, present, seen_confidential_ids

Row = TypeVar("Row", Need, Achievement)


@dataclass(frozen=True)
class SuggestionFilters:
    """What a caller may narrow suggestions by; None leaves the natural filter in place."""

    field_code: str | None = None
    region_code: str | None = None
    max_price: Decimal | None = None
    min_budget: Decimal | None = None
    min_maturity: Maturity | None = None
    modes: tuple[str, ...] | None = None

    def overrides(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.field_code:
            out["field_codes"] = frozenset({self.field_code})
        if self.region_code:
            out["region_codes"] = frozenset({self.region_code})
        if self.max_price is not None:
            out["max_price"] = self.max_price
        if self.min_budget is not None:
            out["min_budget"] = self.min_budget
        if self.min_maturity is not None:
            out["min_maturity"] = maturity_trl(self.min_maturity)
        if self.modes:
            out["modes"] = frozenset(self.modes)
        return out


def _counterparts(session: Session, model: type[Row], ids: list[int]) -> dict[int, Need | Achievement]:
    found: list[Need | Achievement] = []
    if model is Need:
        found.extend(session.exec(select(Achievement).where(col(Achievement.id).in_(ids))).all())
    else:
        found.extend(session.exec(select(Need).where(col(Need.id).in_(ids))).all())
    return {r.id or 0: r for r in found}


def _may_ask(actor: Actor, row: Need | Achievement) -> bool:
    return actor.is_admin or actor.role == Role.BROKER or actor.org_id == row.org_id


def suggest_for(
    db: Engine,
    index: IndexService,
    actor: Actor,
    model: type[Row],
    posting_id: int,
    *,
    k: int = 10,
    filters: SuggestionFilters | None = None,
) -> list[dict[str, Any]]:
    """Ranked counterparts of a posting, each with its score components, explanation and the
    counterpart as the caller may see it. Only the owner, brokers and admins may ask. Counterparts
    already under contract stay in the list, flagged ``contracted`` (``posting.status`` says it too).

    Confidentiality: the query and every counterpart enter filters and explanations only as far as the
    caller may see them (`PostingFilter.hides`, `redacted`): a hidden budget or price never decides
    whether a posting passes a money filter, and no shared term or sentence comes from a hidden text.
    The ranking itself still uses a counterpart's full text (that is the point of the matching); what a
    caller gets from it is an order and a score, never a hidden word or number."""
    filters = filters or SuggestionFilters()
    check_codes(filters.field_code, filters.region_code)
    with Session(db) as session:
        row = session.get(model, posting_id)
        if row is None:
            raise NotFoundError(f"{'need' if model is Need else 'achievement'} {posting_id} not found")
        if not _may_ask(actor, row):
            raise PermissionDeniedError("only the owning organisation, brokers and admins see suggestions")
        query = to_posting(row)
        if row.visibility == Visibility.CONFIDENTIAL and not can_see_confidential(session, actor, row):
            query = redacted(query)  # a broker not assigned to it matches on what they may see
        other: type[Need] | type[Achievement] = Achievement if model is Need else Need
        seen = seen_confidential_ids(session, actor, other)
        audience: dict[str, Any] = {} if seen is None else {"sees_confidential": False, "seen_ids": seen}
        hard = PostingFilter.for_counterparts(
            query, statuses=CANDIDATE_STATUSES, **audience, **filters.overrides()
        )
        hits = index.suggest(query, k, hard)
        rows = _counterparts(session, model, [h.id for h in hits])
        return [
            {
                "rank": h.rank,
                "score": h.score,
                "components": h.components,
                "explanation": h.explanation.to_dict(),
                "posting": present(rows[h.id], actor, session=session),
            }
            for h in hits
            if h.id in rows
        ]
