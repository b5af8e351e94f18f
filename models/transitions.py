"""Allowed state transitions, as data. Services call `check_transition` before every change."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Final, TypeVar

from models.enums import CallStatus, ContractStatus, MatchStatus, PostingStatus

S = TypeVar("S", bound=StrEnum)


class InvalidTransitionError(ValueError):
    """A state change that the lifecycle does not allow."""

    def __init__(self, entity: str, current: StrEnum, target: StrEnum) -> None:
        super().__init__(f"{entity} cannot go from {current.value!r} to {target.value!r}")
        self.entity, self.current, self.target = entity, current, target


POSTING_TRANSITIONS: Final[Mapping[PostingStatus, frozenset[PostingStatus]]] = {
    PostingStatus.DRAFT: frozenset({PostingStatus.OPEN, PostingStatus.WITHDRAWN}),
    PostingStatus.OPEN: frozenset(
        {
            PostingStatus.MATCHED,
            PostingStatus.CONTRACTED,
            PostingStatus.CLOSED,
            PostingStatus.EXPIRED,
            PostingStatus.WITHDRAWN,
        }
    ),
    PostingStatus.MATCHED: frozenset(
        {PostingStatus.OPEN, PostingStatus.CONTRACTED, PostingStatus.CLOSED, PostingStatus.WITHDRAWN}
    ),
    PostingStatus.CONTRACTED: frozenset({PostingStatus.OPEN, PostingStatus.CLOSED, PostingStatus.WITHDRAWN}),
    PostingStatus.CLOSED: frozenset(),
    PostingStatus.EXPIRED: frozenset({PostingStatus.OPEN}),
    PostingStatus.WITHDRAWN: frozenset(),
}

LEDGER_POSTING_MOVES: Final[frozenset[tuple[PostingStatus, PostingStatus]]] = frozenset(
    {
        (PostingStatus.OPEN, PostingStatus.CONTRACTED),
        (PostingStatus.MATCHED, PostingStatus.CONTRACTED),
        (PostingStatus.CONTRACTED, PostingStatus.OPEN),
    }
)
"""Posting moves only the contract ledger makes: a signed contract moves its need and achievement to
CONTRACTED (已签约), cancelling the last live contract on them moves them back to OPEN. Owners may still
close or withdraw a contracted posting, but not mark or unmark it themselves."""


def ledger_posting_status(current: PostingStatus, *, contracted: bool) -> PostingStatus | None:
    """The status the ledger gives a posting that now has (``contracted``) or no longer has a live
    contract, or None when the posting stays as it is (e.g. it was closed or withdrawn meanwhile)."""
    target = PostingStatus.CONTRACTED if contracted else PostingStatus.OPEN
    return target if (current, target) in LEDGER_POSTING_MOVES else None


MATCH_TRANSITIONS: Final[Mapping[MatchStatus, frozenset[MatchStatus]]] = {
    MatchStatus.SUGGESTED: frozenset({MatchStatus.ASSIGNED, MatchStatus.WITHDRAWN}),
    MatchStatus.ASSIGNED: frozenset(
        {MatchStatus.ASSIGNED, MatchStatus.ACCEPTED, MatchStatus.REJECTED, MatchStatus.WITHDRAWN}
    ),
    MatchStatus.ACCEPTED: frozenset({MatchStatus.NEGOTIATING, MatchStatus.CONTRACTED, MatchStatus.WITHDRAWN}),
    MatchStatus.REJECTED: frozenset(),
    MatchStatus.NEGOTIATING: frozenset({MatchStatus.CONTRACTED, MatchStatus.FAILED, MatchStatus.WITHDRAWN}),
    MatchStatus.CONTRACTED: frozenset(),
    MatchStatus.FAILED: frozenset(),
    MatchStatus.WITHDRAWN: frozenset(),
}

CONTRACT_TRANSITIONS: Final[Mapping[ContractStatus, frozenset[ContractStatus]]] = {
    ContractStatus.SIGNED: frozenset(
        {ContractStatus.REGISTERED, ContractStatus.NOT_REGISTERED, ContractStatus.CANCELLED}
    ),
    ContractStatus.REGISTERED: frozenset({ContractStatus.CANCELLED}),
    ContractStatus.NOT_REGISTERED: frozenset({ContractStatus.CANCELLED}),
    ContractStatus.CANCELLED: frozenset(),
}

MATCH_DECIDED: Final = frozenset(
    {
        MatchStatus.ACCEPTED,
        MatchStatus.REJECTED,
        MatchStatus.NEGOTIATING,
        MatchStatus.CONTRACTED,
        MatchStatus.FAILED,
        MatchStatus.WITHDRAWN,
    }
)


def check_transition(entity: str, table: Mapping[S, frozenset[S]], current: S, target: S) -> None:
    """Raise `InvalidTransitionError` unless ``current -> target`` is allowed."""
    if target not in table[current]:
        raise InvalidTransitionError(entity, current, target)


CALL_TRANSITIONS: Final[Mapping[CallStatus, frozenset[CallStatus]]] = {
    CallStatus.DRAFT: frozenset({CallStatus.PUBLISHED, CallStatus.CANCELLED}),
    CallStatus.PUBLISHED: frozenset({CallStatus.CLOSED, CallStatus.CANCELLED}),
    CallStatus.CLOSED: frozenset({CallStatus.UNDER_REVIEW, CallStatus.CANCELLED}),
    CallStatus.UNDER_REVIEW: frozenset({CallStatus.AWARDED, CallStatus.FAILED, CallStatus.CANCELLED}),
    CallStatus.AWARDED: frozenset({CallStatus.IN_PROGRESS, CallStatus.FAILED, CallStatus.CANCELLED}),
    CallStatus.IN_PROGRESS: frozenset({CallStatus.COMPLETED, CallStatus.FAILED}),
    CallStatus.COMPLETED: frozenset(),
    CallStatus.FAILED: frozenset(),
    CallStatus.CANCELLED: frozenset(),
}
"""揭榜挂帅 lifecycle: draft → published → closed → under review → awarded → in progress → completed,
or failed / cancelled."""


def path_to(table: Mapping[S, frozenset[S]], current: S, target: S) -> list[S]:
    """The shortest chain of allowed steps from ``current`` to ``target`` (empty if none), so that a
    service can walk a call from published to awarded through every state in between."""
    frontier: list[list[S]] = [[current]]
    seen = {current}
    while frontier:
        path = frontier.pop(0)
        for nxt in sorted(table[path[-1]]):
            if nxt == target:
                return [*path[1:], nxt]
            if nxt not in seen:
                seen.add(nxt)
                frontier.append([*path, nxt])
    return []
