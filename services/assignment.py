"""Assigning suggested matches to brokers (suggested → assigned).

The optimisation is `matcher.assignment.assign` (an exact linear assignment maximising total skill
under capacity); this module feeds it from the database and writes the result back:
* free capacity = the broker's capacity minus the reviews already assigned to them and undecided;
* a broker whose organisation is a party (the need's or the achievement's org) is never chosen;
* skill = 0.1 for any broker, +1.0 when the broker covers the need's field (top-level code),
  +0.5 when one of the broker's regions contains the need's region; multiplied by ``1 + score`` so
  that, when capacity is short, better suggestions are reviewed first;
* matches whose need or achievement is no longer open are left alone and reported;
* every assignment goes through `services.review.change_match` (checked, version-guarded, audited).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from data.db import session_scope
from matcher.assignment import AssignmentTask, BrokerProfile, assign
from models import Achievement, Broker, Match, MatchStatus, Need
from services.actor import Actor
from services.index import INDEXED_STATUSES
from services.review import change_match, open_reviews
from services.stats import within

__all__ = ["assign_matches", "broker_profiles", "broker_skill", "pending_tasks"]


def _top(code: str) -> str:
    return code.split(".")[0]


def broker_skill(task: AssignmentTask, broker: BrokerProfile) -> float:
    """How well a broker fits a match (see the module docstring); always > 0 for a free broker."""
    score = 0.1
    if task.field_code and any(_top(f) == _top(task.field_code) for f in broker.field_codes):
        score += 1.0
    if task.region_code and any(within(task.region_code, r) for r in broker.region_codes):
        score += 0.5
    return score * task.weight


def pending_tasks(session: Session) -> tuple[list[AssignmentTask], list[int]]:
    """Suggested matches ready for review, and those whose postings closed meanwhile."""
    rows = session.exec(
        select(Match, Need, Achievement)
        .join(Need, col(Need.id) == Match.need_id)
        .join(Achievement, col(Achievement.id) == Match.achievement_id)
        .where(Match.status == MatchStatus.SUGGESTED)
        .order_by(col(Match.id))
    ).all()
    tasks, closed = [], []
    for match, need, achievement in rows:
        if need.status not in INDEXED_STATUSES or achievement.status not in INDEXED_STATUSES:
            closed.append(match.id or 0)
            continue
        tasks.append(
            AssignmentTask(
                id=match.id or 0,
                party_org_ids=frozenset({need.org_id, achievement.org_id}),
                field_code=need.field_code,
                region_code=need.region_code,
                weight=1.0 + max(float(match.score), 0.0),
            )
        )
    return tasks, closed


def broker_profiles(session: Session) -> list[BrokerProfile]:
    """Active brokers with their free capacity."""
    busy = open_reviews(session)
    brokers = session.exec(select(Broker).where(col(Broker.active).is_(True)).order_by(col(Broker.id))).all()
    return [
        BrokerProfile(
            id=b.id or 0,
            org_id=b.org_id,
            capacity=max(b.capacity - busy.get(b.id or 0, 0), 0),
            field_codes=frozenset(b.field_codes),
            region_codes=frozenset(b.region_codes),
        )
        for b in brokers
    ]


def _load_matches(session: Session, ids: Sequence[int]) -> dict[int, Match]:
    found: dict[int, Match] = {}
    for start in range(0, len(ids), 500):
        chunk = list(ids[start : start + 500])
        found.update(
            {m.id or 0: m for m in session.exec(select(Match).where(col(Match.id).in_(chunk))).all()}
        )
    return found


def _reason(task: AssignmentTask, brokers: Sequence[BrokerProfile]) -> str:
    """Why a task stayed unassigned."""
    if not brokers:
        return "no_active_broker"
    allowed = [b for b in brokers if b.org_id not in task.party_org_ids]
    if not allowed:
        return "conflict_of_interest"
    if all(b.capacity == 0 for b in allowed):
        return "no_capacity"
    return "capacity_taken_by_better_fits"


def assign_matches(db: Engine, actor: Actor) -> dict[str, Any]:
    """Assign every suggested match it can; report the rest with a reason."""
    actor.require()
    with session_scope(db) as session:
        tasks, closed = pending_tasks(session)
        brokers = broker_profiles(session)
        result = assign(tasks, brokers, skill=broker_skill)
        matches = _load_matches(session, [a.task_id for a in result.assignments])
        for a in result.assignments:
            change_match(
                session, actor, matches[a.task_id], MatchStatus.ASSIGNED, "assign", broker_id=a.broker_id
            )
        by_task = {t.id: t for t in tasks}
        unassigned = [{"match_id": t, "reason": _reason(by_task[t], brokers)} for t in result.unassigned]
    return {
        "considered": len(tasks),
        "assigned": len(result.assignments),
        "total_skill": round(result.total_score, 6),
        "by_broker": dict(sorted(Counter(a.broker_id for a in result.assignments).items())),
        "unassigned": unassigned,
        "unassigned_by_reason": dict(sorted(Counter(u["reason"] for u in unassigned).items())),
        "skipped_postings_closed": closed,
    }
