"""Broker assignment: optimal under capacity and conflicts, never worse than greedy."""

from __future__ import annotations

import numpy as np
import pytest

from matcher.assignment import (
    AssignmentTask,
    BrokerProfile,
    assign,
    default_skill,
    greedy_assign,
)


def check_feasible(result, tasks, brokers) -> None:
    task_by_id = {t.id: t for t in tasks}
    broker_by_id = {b.id: b for b in brokers}
    loads: dict[int, int] = {}
    for a in result.assignments:
        broker = broker_by_id[a.broker_id]
        assert broker.org_id not in task_by_id[a.task_id].party_org_ids
        loads[a.broker_id] = loads.get(a.broker_id, 0) + 1
        assert a.score == pytest.approx(default_skill(task_by_id[a.task_id], broker))
    assert all(loads[b] <= broker_by_id[b].capacity for b in loads)
    assigned = [a.task_id for a in result.assignments]
    assert len(assigned) == len(set(assigned))
    assert sorted(assigned + result.unassigned) == sorted(task_by_id)


def test_thousand_tasks_twenty_brokers(rng: np.random.Generator) -> None:
    orgs = list(range(30))
    brokers = [
        BrokerProfile(
            id=b,
            org_id=int(rng.choice(orgs)),
            capacity=int(rng.integers(10, 60)),
            field_codes=frozenset(f"{int(f):02d}" for f in rng.choice(12, size=2, replace=False)),
            region_codes=frozenset({f"{int(rng.choice([11, 41, 32])):02d}0000"}),
        )
        for b in range(20)
    ]
    tasks = [
        AssignmentTask(
            id=t,
            party_org_ids=frozenset(int(o) for o in rng.choice(orgs, size=2, replace=False)),
            field_code=f"{int(rng.integers(0, 12)):02d}",
            region_code=f"{int(rng.choice([11, 41, 32])):02d}0100",
            weight=float(rng.uniform(0.5, 1.5)),
        )
        for t in range(1000)
    ]
    optimal, greedy = assign(tasks, brokers), greedy_assign(tasks, brokers)
    check_feasible(optimal, tasks, brokers)
    check_feasible(greedy, tasks, brokers)
    assert optimal.total_score >= greedy.total_score - 1e-9
    capacity = sum(b.capacity for b in brokers)
    assert len(optimal.assignments) >= min(capacity, 1000) - 50  # conflicts may strand a few


def test_beats_greedy_where_greedy_is_short_sighted() -> None:
    # greedy gives task 1 the all-round expert; the optimum sends it to the field expert so that task 2,
    # which conflicts with the field expert's employer, can still get the all-round expert
    brokers = [
        BrokerProfile(
            id=1, org_id=None, capacity=1, field_codes=frozenset({"08"}), region_codes=frozenset({"410000"})
        ),
        BrokerProfile(id=2, org_id=7, capacity=1, field_codes=frozenset({"08"})),
    ]
    tasks = [
        AssignmentTask(id=1, field_code="08", region_code="410100"),
        AssignmentTask(id=2, field_code="08", region_code="410100", party_org_ids=frozenset({7})),
    ]
    optimal, greedy = assign(tasks, brokers), greedy_assign(tasks, brokers)
    assert greedy.unassigned == [2] and greedy.total_score == pytest.approx(1.6)
    assert optimal.unassigned == [] and optimal.total_score == pytest.approx(2.7)


def test_conflicts_and_zero_capacity() -> None:
    brokers = [BrokerProfile(id=1, org_id=5, capacity=3), BrokerProfile(id=2, org_id=None, capacity=0)]
    tasks = [AssignmentTask(id=1, party_org_ids=frozenset({5})), AssignmentTask(id=2)]
    result = assign(tasks, brokers)
    assert [(a.task_id, a.broker_id) for a in result.assignments] == [(2, 1)]
    assert result.unassigned == [1]
    assert assign([], brokers).assignments == []
