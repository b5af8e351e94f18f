"""Proposing matches: run the engine for open postings and store the top-k as `Match` rows.

Directions: every open need is matched against achievements; achievements that have never been
suggested (new ones) — or the ones named — are matched against needs, so a new achievement is seen
even when it ranks in no need's top k. The run is idempotent: a pair is stored once
(``uq_match_pair``); an undecided match (suggested, assigned) gets its score, rank, components,
explanation and engine version refreshed (not a state change: not audited, version unchanged, so a
broker's open review page stays valid); a decided match is left exactly as the broker saw it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from data.db import session_scope
from matcher.engine import Suggestion
from matcher.filters import PostingFilter
from matcher.postings import Side
from models import Achievement, Match, MatchStatus, Need, Role
from models.types import utc_now
from services import audit, exposure
from services.actor import Actor
from services.errors import InvalidInputError
from services.index import CANDIDATE_STATUSES, INDEXED_STATUSES, IndexService, to_posting

__all__ = ["MAX_K", "run_matching"]

logger = logging.getLogger(__name__)
MAX_K = 100
_UNDECIDED = frozenset({MatchStatus.SUGGESTED, MatchStatus.ASSIGNED})
_CHUNK = 500
STORE_CHUNK = 20  # proposals written per transaction (milliseconds on SQLite, well under a second loaded)
Row = TypeVar("Row", Need, Achievement)


@dataclass(frozen=True)
class Proposal:
    """A suggestion as it will be stored, keyed by its (need, achievement) pair."""

    need_id: int
    achievement_id: int
    score: float
    rank: int
    components: dict[str, float]
    explanation: dict[str, Any]


def _proposal(query: Need | Achievement, s: Suggestion) -> Proposal:
    from_need = isinstance(query, Need)
    explanation = s.explanation.to_dict()
    explanation["direction"] = "need_to_achievement" if from_need else "achievement_to_need"
    return Proposal(
        need_id=(query.id or 0) if from_need else s.id,
        achievement_id=s.id if from_need else (query.id or 0),
        score=float(s.score),
        rank=int(s.rank),
        components={k: float(v) for k, v in s.components.items()},
        explanation=explanation,
    )


def _rows(session: Session, model: type[Row], ids: Sequence[int] | None) -> list[Row]:
    query = select(model).where(col(model.status).in_(INDEXED_STATUSES)).order_by(col(model.id))
    if ids is not None:
        query = query.where(col(model.id).in_(list(ids)))
    return list(session.exec(query).all())


def _unsuggested_achievements(session: Session) -> list[Achievement]:
    seen = select(Match.achievement_id)
    return list(
        session.exec(
            select(Achievement)
            .where(col(Achievement.status).in_(INDEXED_STATUSES), col(Achievement.id).not_in(seen))
            .order_by(col(Achievement.id))
        ).all()
    )


def _suggest_all(
    index: IndexService, rows: Iterable[Need | Achievement], k: int
) -> dict[tuple[int, int], Proposal]:
    proposals: dict[tuple[int, int], Proposal] = {}
    for row in rows:
        posting = to_posting(row)
        filters = PostingFilter.for_counterparts(posting, statuses=CANDIDATE_STATUSES)
        for suggestion in index.suggest(row, k, filters):
            p = _proposal(row, suggestion)
            proposals[(p.need_id, p.achievement_id)] = p
    return proposals


def _suggest_needs(
    index: IndexService, needs: Sequence[Need], k: int, fair: bool
) -> tuple[dict[tuple[int, int], Proposal], dict[str, Any]]:
    """Needs' top-k (capped for fair exposure when asked) and the run's exposure figures."""
    depth = min(k * exposure.CANDIDATE_FACTOR, MAX_K * exposure.CANDIDATE_FACTOR) if fair else k
    ranked: dict[int, list[Suggestion]] = {}
    for row in needs:
        filters = PostingFilter.for_counterparts(to_posting(row), statuses=CANDIDATE_STATUSES)
        ranked[row.id or 0] = index.suggest(row, depth, filters)
    lists, figures = exposure.select_lists(ranked, index.owners(Side.ACHIEVEMENT), k, fair=fair)
    by_id = {row.id or 0: row for row in needs}
    proposals: dict[tuple[int, int], Proposal] = {}
    for need_id, chosen in lists.items():
        for rank, suggestion in enumerate(chosen, start=1):
            p = _proposal(by_id[need_id], replace(suggestion, rank=rank))
            proposals[(p.need_id, p.achievement_id)] = p
    return proposals, figures


def _existing(session: Session, pairs: Iterable[tuple[int, int]]) -> dict[tuple[int, int], Match]:
    wanted = set(pairs)
    need_ids = sorted({n for n, _ in wanted})
    found: dict[tuple[int, int], Match] = {}
    for start in range(0, len(need_ids), _CHUNK):
        chunk = need_ids[start : start + _CHUNK]
        for match in session.exec(select(Match).where(col(Match.need_id).in_(chunk))).all():
            if (match.need_id, match.achievement_id) in wanted:
                found[(match.need_id, match.achievement_id)] = match
    return found


def _store(
    session: Session, actor: Actor, proposals: dict[tuple[int, int], Proposal], engine_version: str
) -> dict[str, int]:
    counts = {"created": 0, "refreshed": 0, "kept_decided": 0}
    existing = _existing(session, proposals)
    now = utc_now()
    for pair, p in sorted(proposals.items()):
        values: dict[str, Any] = {
            "score": p.score,
            "rank": p.rank,
            "components": p.components,
            "explanation": p.explanation,
            "engine_version": engine_version,
        }
        match = existing.get(pair)
        if match is None:
            match = Match(need_id=p.need_id, achievement_id=p.achievement_id, **values)
            session.add(match)
            session.flush()
            audit.record(
                session,
                actor,
                "match",
                match.id or 0,
                "suggest",
                after=audit.snapshot(
                    match, ("need_id", "achievement_id", "score", "rank", "engine_version", "status")
                ),
            )
            counts["created"] += 1
        elif match.status in _UNDECIDED:
            for name, value in values.items():
                setattr(match, name, value)
            match.updated_at = now
            session.add(match)
            counts["refreshed"] += 1
        else:
            counts["kept_decided"] += 1
    return counts


def run_matching(
    db: Engine,
    index: IndexService,
    actor: Actor,
    *,
    need_ids: Sequence[int] | None = None,
    achievement_ids: Sequence[int] | None = None,
    k: int = 10,
    fair: bool | None = None,
) -> dict[str, Any]:
    """Store the top-``k`` suggestions of the chosen postings (default: all open needs and all
    not-yet-suggested achievements). Returns counts of what was created, refreshed and kept, and the
    exposure of institutions in the needs' lists (`services.exposure`; ``fair`` caps it).

    Short transactions: the postings are read, ranked outside any transaction, and the proposals are
    written in chunks of `STORE_CHUNK`, each its own transaction, so a long run never holds SQLite's
    single write lock for more than a moment and other users' writes go on during it. A run that
    fails half-way keeps the chunks it wrote; running it again completes it (the run is idempotent)."""
    actor.require(Role.BROKER)
    if not 1 <= k <= MAX_K:
        raise InvalidInputError(f"k must be between 1 and {MAX_K}", code="invalid_k")
    everything = need_ids is None and achievement_ids is None
    with Session(db) as session:
        needs = _rows(session, Need, need_ids) if need_ids is not None or everything else []
    proposals, exposure_figures = _suggest_needs(
        index, needs, k, exposure.FAIR_BY_DEFAULT if fair is None else fair
    )
    with Session(db) as session:
        if achievement_ids is not None:
            achievements = _rows(session, Achievement, achievement_ids)
        elif everything:  # new achievements that no need's top k reached yet
            reached = {a for _, a in proposals}
            achievements = [a for a in _unsuggested_achievements(session) if a.id not in reached]
        else:
            achievements = []
    for pair, p in _suggest_all(index, achievements, k).items():
        proposals.setdefault(pair, p)
    counts = {"created": 0, "refreshed": 0, "kept_decided": 0}
    ordered = sorted(proposals.items())
    for start in range(0, len(ordered), STORE_CHUNK):
        with session_scope(db) as session:
            chunk = dict(ordered[start : start + STORE_CHUNK])
            for name, value in _store(session, actor, chunk, index.engine_version).items():
                counts[name] += value
    asked = len(need_ids or ()) + len(achievement_ids or ())
    summary = {
        "needs_queried": len(needs),
        "achievements_queried": len(achievements),
        "skipped_not_open": max(asked - len(needs) - len(achievements), 0),
        "suggestions": len(proposals),
        **counts,
        "engine_version": index.engine_version,
        "k": k,
        "exposure": exposure_figures,
    }
    logger.info("matching run: %s", summary)
    return summary
