"""The database's decision log in the shape the re-ranker trains on (needs in decision order)."""

from __future__ import annotations

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from learning.decisions import labelled_pairs
from learning.ranker import Decision
from matcher.engine import Suggestion
from matcher.filters import PostingFilter
from matcher.postings import Posting
from models import Achievement, Need
from services.config import Settings
from services.index import INDEXED_STATUSES, IndexService, to_posting

MIN_DECISIONS = 20

Log = tuple[list[int], dict[int, list[Suggestion]], list[Decision], dict[int, Posting], dict[int, Posting]]


def database_log(db: Engine, settings: Settings, depth: int) -> Log | None:
    """Needs (by first decision), their fused top ``depth``, the decisions and postings; None if too few."""
    with Session(db) as session:
        pairs = [p for p in labelled_pairs(session) if p.label is not None]
        if len(pairs) < MIN_DECISIONS or len({p.label > 0 for p in pairs if p.label is not None}) < 2:
            return None
        pairs.sort(key=lambda p: (p.decided_at or p.created_at, p.match_id))
        needs = {
            n.id or 0: n
            for n in session.exec(select(Need).where(col(Need.id).in_({p.need_id for p in pairs})))
        }
        achievements = {a.id or 0: to_posting(a) for a in session.exec(select(Achievement))}
    index = IndexService.from_settings(settings)
    index.start(db)
    statuses = frozenset(s.value for s in INDEXED_STATUSES)
    order = list(dict.fromkeys(p.need_id for p in pairs))
    candidates = {
        n: index.suggest(
            needs[n], depth, PostingFilter.for_counterparts(to_posting(needs[n]), statuses=statuses)
        )
        for n in order
    }
    decisions = [Decision(p.need_id, p.achievement_id, p.label or 0) for p in pairs]
    return order, candidates, decisions, achievements, {n: to_posting(row) for n, row in needs.items()}
