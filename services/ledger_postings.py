"""Posting lifecycle follows the ledger: a live contract on a match marks its need and achievement
contracted (已签约); when the last live contract on a posting is cancelled it opens again. The index
follows in the same request, so suggestions show the new status (contracted postings stay suggestible,
flagged ``contracted``); the posting's other matches are left as they are, showing the status too."""

from __future__ import annotations

from sqlmodel import Session, col, select

from models import Achievement, Contract, ContractStatus, Match, Need
from models.transitions import ledger_posting_status
from models.types import utc_now
from services import audit
from services.actor import Actor
from services.index import IndexService

__all__ = ["follow_ledger", "has_live_contract"]


def has_live_contract(session: Session, posting: Need | Achievement) -> bool:
    """True if a non-cancelled contract was signed on a match of this posting."""
    column = Match.need_id if isinstance(posting, Need) else Match.achievement_id
    found = session.exec(
        select(Contract.id)
        .join(Match, col(Match.id) == Contract.match_id)
        .where(column == posting.id, Contract.status != ContractStatus.CANCELLED)
    ).first()
    return found is not None


def follow_ledger(session: Session, index: IndexService | None, actor: Actor, match: Match) -> None:
    """Bring the match's need and achievement in line with their contracts (call after the contract
    change is flushed, inside its transaction). Without an index the next catch-up re-indexes them."""
    need = session.get(Need, match.need_id, with_for_update=True)
    achievement = session.get(Achievement, match.achievement_id, with_for_update=True)
    assert need is not None and achievement is not None  # foreign keys
    rows: tuple[Need | Achievement, ...] = (need, achievement)
    for row in rows:
        target = ledger_posting_status(row.status, contracted=has_live_contract(session, row))
        if target is None:
            continue
        before = audit.snapshot(row, ("status",))
        row.status = target
        row.updated_at = utc_now()
        session.add(row)
        session.flush()
        audit.record(
            session,
            actor,
            "need" if isinstance(row, Need) else "achievement",
            row.id or 0,
            f"status:{target.value}",
            before=before,
            after=audit.snapshot(row, ("status",)),
        )
        if index is not None:
            index.sync(session, row)
