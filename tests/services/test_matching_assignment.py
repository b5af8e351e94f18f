"""Proposing matches (idempotent, filtered, both directions) and assigning them to brokers (capacity,
conflicts, at least as much total skill as the greedy reference on a generated case)."""

from __future__ import annotations

import random
import time
from collections import Counter

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from matcher.assignment import greedy_assign
from models import (
    Achievement,
    Broker,
    Match,
    MatchStatus,
    Need,
    Organization,
    OrgKind,
    PostingStatus,
    Role,
    User,
)
from models.schemas import AchievementCreate, NeedCreate
from services import postings
from services.actor import SYSTEM
from services.assignment import assign_matches, broker_profiles, broker_skill, pending_tasks
from services.errors import InvalidInputError, PermissionDeniedError
from services.index import IndexService
from services.matching import run_matching
from tests.services.conftest import World, make_uscc

NEEDS = [
    ("盾构机刀盘滚刀磨损快", "盾构施工中滚刀磨损严重，换刀频繁，需要高耐磨刀具材料。", "F02"),
    ("小麦赤霉病防控技术", "需要抗赤霉病的小麦新品种或者绿色防控技术。", "F11"),
]
ACHIEVEMENTS = [
    ("高耐磨硬质合金滚刀", "用于盾构滚刀的硬质合金，耐磨性提高一倍，换刀次数减少。", "F02"),
    ("抗赤霉病小麦新品种", "高抗赤霉病的小麦品种，产量稳定，适合黄淮麦区。", "F11"),
    ("宽温域电池电解液", "零下三十度保持百分之八十容量的电解液。", "F06"),
]


def _market(world: World, index: IndexService) -> dict[str, list[int]]:
    e, a = world.engine, world.actor
    needs = [
        postings.create_need(e, index, a["ent"], NeedCreate(title=t, description=b, field_code=f))["id"]
        for t, b, f in NEEDS
    ]
    achs = [
        postings.create_achievement(e, index, a["uni"], AchievementCreate(title=t, abstract=b, field_code=f))[
            "id"
        ]
        for t, b, f in ACHIEVEMENTS
    ]
    # the buyer's own achievement repeating its need: never a counterpart of its own need
    own = postings.create_achievement(
        e,
        index,
        a["admin"],
        AchievementCreate(title=NEEDS[0][0], abstract=NEEDS[0][1], field_code="F02"),
        org_id=world.org["ent"],
    )
    return {"needs": needs, "achievements": achs, "own": [own["id"]]}


def _pairs(engine: Engine) -> dict[tuple[int, int], Match]:
    with Session(engine) as s:
        return {(m.need_id, m.achievement_id): m for m in s.exec(select(Match)).all()}


def test_matching_is_idempotent_and_keeps_decisions(world: World, index: IndexService) -> None:
    e, admin = world.engine, world.actor["admin"]
    ids = _market(world, index)
    first = run_matching(e, index, admin, k=3)
    pairs = _pairs(e)
    assert len(pairs) == first["created"] == first["suggestions"]
    assert all(a not in ids["own"] or n not in ids["needs"] for n, a in pairs)  # same organisation excluded
    assert pairs[(ids["needs"][0], ids["achievements"][0])].rank == 1
    decided = pairs[(ids["needs"][0], ids["achievements"][0])]
    undecided = pairs[(ids["needs"][1], ids["achievements"][1])]
    with Session(e) as s:
        for m, status, score in (
            (decided, MatchStatus.REJECTED, 0.123),
            (undecided, MatchStatus.SUGGESTED, 0.0),
        ):
            row = s.get(Match, m.id)
            assert row is not None
            row.status, row.score = status, score
            s.add(row)
        s.commit()
    second = run_matching(e, index, admin, k=3)
    after = _pairs(e)
    assert second["created"] == 0 and len(after) == len(pairs) and second["kept_decided"] == 1
    assert (
        after[(decided.need_id, decided.achievement_id)].status,
        after[(decided.need_id, decided.achievement_id)].score,
    ) == (MatchStatus.REJECTED, 0.123)
    assert after[(undecided.need_id, undecided.achievement_id)].score == pytest.approx(undecided.score)


def test_matching_directions_and_filters(world: World, index: IndexService) -> None:
    e, admin = world.engine, world.actor["admin"]
    ids = _market(world, index)
    postings.set_status(
        e, index, world.actor["uni"], Achievement, ids["achievements"][0], PostingStatus.WITHDRAWN
    )
    only_one = run_matching(e, index, admin, need_ids=[ids["needs"][0]], k=5)
    assert only_one["needs_queried"] == 1 and only_one["achievements_queried"] == 0
    assert all(n == ids["needs"][0] and a != ids["achievements"][0] for n, a in _pairs(e))
    reverse = run_matching(
        e, index, admin, achievement_ids=[ids["achievements"][1], ids["achievements"][0]], k=5
    )
    assert reverse["achievements_queried"] == 1 and reverse["skipped_not_open"] == 1
    pair = _pairs(e)[(ids["needs"][1], ids["achievements"][1])]
    assert pair.explanation["direction"] == "achievement_to_need"
    with pytest.raises(InvalidInputError):
        run_matching(e, index, admin, k=0)
    with pytest.raises(PermissionDeniedError):
        run_matching(e, index, world.actor["ent"])


def _generated_case(engine: Engine, rng: random.Random) -> None:
    """1,000 suggestions over 200 needs and 150 achievements; 20 brokers, 5 of them employed by a
    university that owns achievements (conflicts); one broker already busy; some needs closed."""
    fields = [f"F{i:02d}" for i in range(1, 18)]
    cities = ["410100", "410200", "410300", "410700", "411300", "411400", "410105"]
    with Session(engine) as s:
        orgs = []
        for i in range(70):
            kind = OrgKind.ENTERPRISE if i < 40 else OrgKind.UNIVERSITY
            orgs.append(
                Organization(
                    name=f"org{i}", kind=kind, uscc=make_uscc(1000 + i), region_code=rng.choice(cities)
                )
            )
        agencies = [
            Organization(
                name=f"agency{i}", kind=OrgKind.TT_AGENCY, uscc=make_uscc(2000 + i), region_code="410100"
            )
            for i in range(15)
        ]
        s.add_all(orgs + agencies)
        s.flush()
        needs = [
            Need(
                org_id=orgs[rng.randrange(40)].id or 0,
                title=f"n{i}",
                description="d",
                field_code=rng.choice(fields),
                region_code=rng.choice(cities),
                status=PostingStatus.CLOSED if i < 5 else PostingStatus.OPEN,
            )
            for i in range(200)
        ]
        achs = [
            Achievement(
                org_id=orgs[40 + rng.randrange(30)].id or 0,
                title=f"a{i}",
                abstract="b",
                field_code=rng.choice(fields),
                region_code=rng.choice(cities),
            )
            for i in range(150)
        ]
        s.add_all([*needs, *achs])
        s.flush()
        employers = [a.id or 0 for a in agencies] + [orgs[40 + i].id or 0 for i in range(5)]
        brokers = []
        for i, employer in enumerate(employers):
            user = User(
                username=f"gen{i}",
                display_name=f"经纪人{i}",
                role=Role.BROKER,
                org_id=employer,
                password_hash="x",
            )
            s.add(user)
            s.flush()
            brokers.append(
                Broker(
                    user_id=user.id or 0,
                    org_id=employer,
                    capacity=rng.randint(20, 50),
                    field_codes=rng.sample(fields, 3),
                    region_codes=rng.sample(cities, 2),
                )
            )
        s.add_all(brokers)
        s.flush()
        pairs = rng.sample([(n, a) for n in range(200) for a in range(150)], 1010)
        for j, (n, a) in enumerate(pairs):
            busy = j < 10  # ten undecided reviews already on the first broker
            s.add(
                Match(
                    need_id=needs[n].id or 0,
                    achievement_id=achs[a].id or 0,
                    score=rng.random(),
                    rank=1,
                    engine_version="gen",
                    status=MatchStatus.ASSIGNED if busy else MatchStatus.SUGGESTED,
                    broker_id=brokers[0].id if busy else None,
                )
            )
        s.commit()


def test_assignment_respects_capacity_and_conflicts_and_beats_greedy(engine: Engine) -> None:
    _generated_case(engine, random.Random(7))
    with Session(engine) as s:
        tasks, closed = pending_tasks(s)
        greedy = greedy_assign(tasks, broker_profiles(s), broker_skill)
    started = time.perf_counter()
    summary = assign_matches(engine, SYSTEM)
    elapsed = time.perf_counter() - started
    assert summary["considered"] == len(tasks) and len(closed) > 0
    assert summary["assigned"] + len(summary["unassigned"]) == len(tasks)
    assert summary["total_skill"] >= greedy.total_score - 1e-6
    assert set(summary["unassigned_by_reason"]) <= {
        "capacity_taken_by_better_fits",
        "no_capacity",
        "conflict_of_interest",
    }
    with Session(engine) as s:
        brokers = {b.id: b for b in s.exec(select(Broker)).all()}
        load = Counter(
            m.broker_id for m in s.exec(select(Match).where(Match.status == MatchStatus.ASSIGNED)).all()
        )
        assert all(load[b] <= brokers[b].capacity for b in load)
        rows = s.exec(
            select(Match, Need, Achievement)
            .join(Need, col(Need.id) == Match.need_id)
            .join(Achievement, col(Achievement.id) == Match.achievement_id)
            .where(Match.status == MatchStatus.ASSIGNED)
        ).all()
        assert all(brokers[m.broker_id].org_id not in (n.org_id, a.org_id) for m, n, a in rows)
        assert all(s.get(Match, mid).status == MatchStatus.SUGGESTED for mid in closed)  # type: ignore[union-attr]
    assert sum(load.values()) == summary["assigned"] + 10
    assert elapsed < 60
