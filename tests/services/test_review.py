"""Broker review: queue visibility, masking, decisions, optimistic concurrency (on PostgreSQL with two
threads deciding the same match at once), reassignment and its conflict checks."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from models import Achievement, AuditEvent, Match, MatchStatus, Need, RejectReason, Visibility
from models.schemas import ReviewDecision
from services import review
from services.errors import ConflictError, PermissionDeniedError
from tests.services.conftest import World


def _posting_pair(world: World, *, confidential: bool = False) -> tuple[int, int]:
    vis = Visibility.CONFIDENTIAL if confidential else Visibility.PUBLIC
    with Session(world.engine) as s:
        need = Need(
            org_id=world.org["ent"],
            title="需求",
            description="保密的需求细节",
            field_code="F02",
            region_code="410105",
            visibility=vis,
            keywords=["滚刀"],
        )
        ach = Achievement(
            org_id=world.org["uni"],
            title="成果",
            abstract="保密的成果摘要",
            field_code="F02",
            region_code="410100",
            visibility=vis,
        )
        s.add_all([need, ach])
        s.commit()
        return need.id or 0, ach.id or 0


def _match(
    world: World,
    status: MatchStatus = MatchStatus.ASSIGNED,
    broker: str | None = "b1",
    score: float = 0.5,
    confidential: bool = False,
) -> int:
    need_id, ach_id = _posting_pair(world, confidential=confidential)
    with Session(world.engine) as s:
        m = Match(
            need_id=need_id,
            achievement_id=ach_id,
            score=score,
            rank=1,
            engine_version="test",
            status=status,
            broker_id=world.broker[broker] if broker else None,
        )
        s.add(m)
        s.commit()
        return m.id or 0


def test_queue_shows_a_broker_only_their_matches(world: World) -> None:
    mine = [_match(world, score=s) for s in (0.2, 0.9)]
    theirs = _match(world, broker="b2")
    queue = review.broker_queue(world.engine, world.actor["b1"])
    assert [r["id"] for r in queue] == [mine[1], mine[0]]  # -score
    assert [r["id"] for r in review.broker_queue(world.engine, world.actor["b1"], sort="score")] == mine
    assert {r["id"] for r in review.broker_queue(world.engine, world.actor["admin"])} == {*mine, theirs}
    assert queue[0]["need_title"] == "需求" and queue[0]["field_name"]
    with pytest.raises(PermissionDeniedError):
        review.broker_queue(world.engine, world.actor["ent"])


def test_detail_masks_confidential_postings_for_outsiders(world: World) -> None:
    match_id = _match(world, confidential=True)
    broker_view = review.get_match_detail(world.engine, world.actor["b1"], match_id)
    assert broker_view["need"]["description"] == "保密的需求细节"
    buyer_view = review.get_match_detail(world.engine, world.actor["ent"], match_id)
    assert buyer_view["need"]["description"] == "保密的需求细节"
    assert buyer_view["achievement"]["abstract"] is None and buyer_view["achievement"]["org_id"] is None
    with pytest.raises(PermissionDeniedError):
        review.get_match_detail(world.engine, world.actor["b2"], match_id)


def test_decisions_follow_the_lifecycle_and_are_audited(world: World) -> None:
    e, b1 = world.engine, world.actor["b1"]
    rejected = _match(world)
    result = review.decide(
        e, b1, rejected, ReviewDecision(accept=False, reason=RejectReason.BUDGET, comment="超预算")
    )
    assert (result["status"], result["reject_reason"], result["version"]) == ("rejected", "budget", 2)
    before = world.counts()
    with pytest.raises(ConflictError) as again:
        review.decide(e, b1, rejected, ReviewDecision(accept=True))
    assert again.value.code == "invalid_transition" and world.counts() == before
    unassigned = _match(world, status=MatchStatus.SUGGESTED, broker=None)
    with pytest.raises(ConflictError):
        review.decide(e, world.actor["admin"], unassigned, ReviewDecision(accept=True))
    with Session(e) as s:
        event = s.exec(
            select(AuditEvent).where(AuditEvent.entity_id == rejected, AuditEvent.action == "reject")
        ).one()
    assert event.before["status"] == "assigned" and event.after["status"] == "rejected"  # type: ignore[index]
    assert event.actor_id == b1.user_id and event.at.tzinfo is not None


def test_stale_expected_version_is_refused(world: World) -> None:
    match_id = _match(world)
    review.decide(world.engine, world.actor["b1"], match_id, ReviewDecision(accept=True, expected_version=1))
    with pytest.raises(ConflictError) as stale:
        review.decide(
            world.engine,
            world.actor["admin"],
            match_id,
            ReviewDecision(accept=False, reason=RejectReason.OTHER, comment="x", expected_version=1),
        )
    assert stale.value.code == "stale_version"


def test_reassign_checks_conflicts_and_capacity(world: World) -> None:
    e, admin = world.engine, world.actor["admin"]
    match_id = _match(world)
    assert review.reassign(e, admin, match_id, world.broker["b2"])["broker_id"] == world.broker["b2"]
    with Session(e) as s:  # make b1 an employee of the seller: a conflict of interest
        from models import Broker

        broker = s.get(Broker, world.broker["b1"])
        assert broker is not None
        broker.org_id = world.org["uni"]
        s.add(broker)
        s.commit()
    with pytest.raises(ConflictError) as conflict:
        review.reassign(e, admin, match_id, world.broker["b1"])
    assert conflict.value.code == "conflict_of_interest"
    with pytest.raises(PermissionDeniedError):
        review.reassign(e, world.actor["b2"], match_id, world.broker["b2"])


@pytest.mark.postgres
def test_two_brokers_deciding_at_once_exactly_one_wins(
    pg_world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both transactions read version 1 before either writes; the row lock plus ``WHERE version = 1``
    lets exactly one UPDATE hit the row."""
    engine: Engine = pg_world.engine
    match_id = _match(pg_world)
    barrier = threading.Barrier(2, timeout=10)
    original = review.get_match

    def get_then_wait(session: Session, mid: int, **kw: Any) -> Match:
        found = original(session, mid, **kw)
        barrier.wait()
        return found

    monkeypatch.setattr(review, "get_match", get_then_wait)
    outcomes: dict[str, Any] = {}
    decisions = {
        "b1": ReviewDecision(accept=True),
        "admin": ReviewDecision(accept=False, reason=RejectReason.NOT_RELEVANT),
    }

    def run(who: str) -> None:
        try:
            outcomes[who] = review.decide(engine, pg_world.actor[who], match_id, decisions[who])
        except ConflictError as exc:
            outcomes[who] = exc

    threads = [threading.Thread(target=run, args=(who,)) for who in decisions]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    winners = [w for w, o in outcomes.items() if isinstance(o, dict)]
    losers = [o for o in outcomes.values() if isinstance(o, ConflictError)]
    assert len(winners) == 1 and len(losers) == 1 and losers[0].code == "stale_version"
    with Session(engine) as s:
        final = s.get(Match, match_id)
        assert final is not None and final.version == 2
        assert final.status == (MatchStatus.ACCEPTED if winners == ["b1"] else MatchStatus.REJECTED)
        decided = s.exec(
            select(AuditEvent).where(AuditEvent.entity == "match", AuditEvent.entity_id == match_id)
        ).all()
        assert len(decided) == 1 and decided[0].at <= datetime.now(UTC)
