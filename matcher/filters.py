"""Hard filters evaluated over posting attributes BEFORE ranking (they produce the allowed-id set).

A filter field left as ``None`` does not constrain. Attributes a posting does not state (no asking
price, no maturity, no modes) pass: a missing value is a question for the broker, not a reason to hide
the posting; the explanation's "why not" flags surface such gaps instead.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from matcher.postings import CONFIDENTIAL, Posting, Side

__all__ = ["PostingFilter", "region_prefix"]


def region_prefix(code: str) -> str:
    """Administrative-division prefix: 410000 -> 41 (province), 410100 -> 4101 (city)."""
    code = code.strip()
    while len(code) > 2 and code.endswith("00"):
        code = code[:-2]
    return code


def city_prefix(code: str) -> str:
    """The prefecture-level part of a region code (4 digits): 410783 and 410700P01 -> 4107."""
    return code.strip()[:4]


def top_field(code: str) -> str:
    """The top-level field of a field code: F03.01 -> F03."""
    return code.strip().split(".", 1)[0]


@dataclass(frozen=True)
class PostingFilter:
    """Constraints on candidate postings.

    field_codes / region_codes match by prefix (a region code is reduced with `region_prefix`).
    max_price applies to achievements (asking_price <= max_price); min_budget to needs
    (budget_max >= min_budget); min_maturity to achievements; max_required_maturity to needs (the
    maturity a need asks for must not exceed it); modes requires an overlap.

    The caller's view of confidential postings: unless ``sees_confidential``, a confidential posting
    that is not in ``seen_ids`` (`hides`) takes part in the money constraints as a posting stating no
    price or budget would (it passes), so no filter, natural or asked for, can bisect a hidden number;
    the engine also explains such a posting from its `redacted` view only.
    """

    field_codes: frozenset[str] | None = None
    region_codes: frozenset[str] | None = None
    max_price: Decimal | None = None
    min_budget: Decimal | None = None
    min_maturity: int | None = None
    max_required_maturity: int | None = None
    modes: frozenset[str] | None = None
    statuses: frozenset[str] | None = frozenset({"open"})
    visibilities: frozenset[str] | None = None
    exclude_ids: frozenset[int] = frozenset()
    exclude_org_ids: frozenset[int] = frozenset()
    sees_confidential: bool = True
    seen_ids: frozenset[int] = frozenset()

    def hides(self, posting: Posting) -> bool:
        """True if the caller may not see this posting's confidential fields (text, numbers, owner)."""
        return (
            not self.sees_confidential
            and posting.visibility == CONFIDENTIAL
            and posting.id not in self.seen_ids
        )

    def matches(self, posting: Posting) -> bool:
        """True if the posting satisfies every constraint."""
        return (
            posting.id not in self.exclude_ids
            and (posting.org_id is None or posting.org_id not in self.exclude_org_ids)
            and _in(posting.status, self.statuses)
            and _in(posting.visibility, self.visibilities)
            and _prefixed(posting.field_code, self.field_codes, lambda c: c)
            and _prefixed(posting.region_code, self.region_codes, region_prefix)
            and self._money_ok(posting)
            and self._maturity_ok(posting)
            and (self.modes is None or not posting.modes or bool(posting.modes & self.modes))
        )

    def _money_ok(self, posting: Posting) -> bool:
        if self.hides(posting):
            return True
        if posting.side is Side.ACHIEVEMENT:
            return (
                self.max_price is None
                or posting.asking_price is None
                or posting.asking_price <= self.max_price
            )
        return self.min_budget is None or posting.budget_max is None or posting.budget_max >= self.min_budget

    def _maturity_ok(self, posting: Posting) -> bool:
        if posting.maturity is None:
            return True
        if posting.side is Side.ACHIEVEMENT:
            return self.min_maturity is None or posting.maturity >= self.min_maturity
        return self.max_required_maturity is None or posting.maturity <= self.max_required_maturity

    def allowed_ids(self, postings: Iterable[Posting]) -> set[int]:
        """Ids of the postings that pass."""
        return {p.id for p in postings if self.matches(p)}

    @classmethod
    def for_counterparts(cls, posting: Posting, **overrides: Any) -> PostingFilter:
        """The natural hard filter for matching ``posting``: open, affordable, mature enough, a shared
        cooperation mode, not the same organisation. Keyword arguments override fields."""
        base = cls(
            modes=posting.modes or None,
            exclude_org_ids=frozenset({posting.org_id}) if posting.org_id is not None else frozenset(),
        )
        if posting.side is Side.NEED:
            base = replace(base, max_price=posting.budget_max, min_maturity=posting.maturity)
        else:
            base = replace(base, min_budget=posting.asking_price, max_required_maturity=posting.maturity)
        return replace(base, **overrides)


def _in(value: str, allowed: frozenset[str] | None) -> bool:
    return allowed is None or value in allowed


def _prefixed(code: str | None, allowed: frozenset[str] | None, reduce: Callable[[str], str]) -> bool:
    if allowed is None:
        return True
    if code is None:
        return False
    return any(code.startswith(reduce(a)) for a in allowed)
