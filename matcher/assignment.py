"""Assigning suggested matches to brokers: maximum total skill under capacity, no conflicts of interest.

Solved exactly as a rectangular linear assignment (scipy's ``linear_sum_assignment``): each broker
contributes ``capacity`` identical slot columns, and each task also gets its own zero-cost "leave
unassigned" column, so the optimum maximises total skill instead of merely the number of assignments
(which a max-cardinality matching would do, sometimes at a lower total than greedy). Conflicted pairs
(the broker's employer is a party to the match) cost more than leaving the task unassigned, so they
are never chosen. `greedy_assign` is the reference it is tested against.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import linear_sum_assignment

__all__ = [
    "Assignment",
    "AssignmentResult",
    "AssignmentTask",
    "BrokerProfile",
    "assign",
    "default_skill",
    "greedy_assign",
]


@dataclass(frozen=True)
class AssignmentTask:
    """A suggested match waiting for a broker."""

    id: int
    party_org_ids: frozenset[int] = frozenset()
    field_code: str | None = None
    region_code: str | None = None
    weight: float = 1.0


@dataclass(frozen=True)
class BrokerProfile:
    """A broker's skills, employer and free capacity (reviews they can still take)."""

    id: int
    org_id: int | None
    capacity: int
    field_codes: frozenset[str] = frozenset()
    region_codes: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Assignment:
    """Task ``task_id`` goes to broker ``broker_id`` with this skill score."""

    task_id: int
    broker_id: int
    score: float


@dataclass(frozen=True)
class AssignmentResult:
    """Assignments plus the ids of tasks that could not (or should not) be assigned."""

    assignments: list[Assignment] = field(default_factory=list)
    unassigned: list[int] = field(default_factory=list)

    @property
    def total_score(self) -> float:
        """Sum of the skill scores of all assignments."""
        return float(sum(a.score for a in self.assignments))


SkillFn = Callable[[AssignmentTask, BrokerProfile], float]


def default_skill(task: AssignmentTask, broker: BrokerProfile) -> float:
    """0.1 for any broker, +1.0 for the field (2-digit prefix), +0.5 for the province; times weight."""
    score = 0.1
    if task.field_code and any(task.field_code[:2] == f[:2] for f in broker.field_codes):
        score += 1.0
    if task.region_code and any(task.region_code[:2] == r[:2] for r in broker.region_codes):
        score += 0.5
    return score * task.weight


def has_conflict(task: AssignmentTask, broker: BrokerProfile) -> bool:
    """A broker may not handle a match one of whose parties is their own employer."""
    return broker.org_id is not None and broker.org_id in task.party_org_ids


def skill_matrix(
    tasks: Sequence[AssignmentTask], brokers: Sequence[BrokerProfile], skill: SkillFn
) -> np.ndarray:
    """Tasks x brokers skill scores, NaN where the pair is forbidden (conflict or non-positive skill)."""
    matrix = np.full((len(tasks), len(brokers)), np.nan)
    for i, task in enumerate(tasks):
        for j, broker in enumerate(brokers):
            if not has_conflict(task, broker):
                value = skill(task, broker)
                if value > 0:
                    matrix[i, j] = value
    return matrix


def assign(
    tasks: Sequence[AssignmentTask], brokers: Sequence[BrokerProfile], skill: SkillFn = default_skill
) -> AssignmentResult:
    """Optimal assignment (maximum total skill) respecting capacities and conflicts."""
    if not tasks:
        return AssignmentResult()
    scores = skill_matrix(tasks, brokers, skill)
    slot_broker = np.repeat(np.arange(len(brokers)), [min(max(b.capacity, 0), len(tasks)) for b in brokers])
    n_tasks, n_slots = len(tasks), slot_broker.size
    forbidden_cost = 1.0  # > the 0 of leaving a task unassigned, so never chosen
    cost = np.zeros((n_tasks, n_slots + n_tasks))
    slot_scores = scores[:, slot_broker] if n_slots else np.zeros((n_tasks, 0))
    cost[:, :n_slots] = np.where(np.isnan(slot_scores), forbidden_cost, -slot_scores)
    cost[:, n_slots:] = forbidden_cost
    cost[np.arange(n_tasks), n_slots + np.arange(n_tasks)] = 0.0
    rows, cols = linear_sum_assignment(cost)
    assignments, unassigned = [], []
    for row, col in zip(rows.tolist(), cols.tolist(), strict=True):
        if col < n_slots and not np.isnan(slot_scores[row, col]):
            broker = brokers[int(slot_broker[col])]
            assignments.append(Assignment(tasks[row].id, broker.id, float(slot_scores[row, col])))
        else:
            unassigned.append(tasks[row].id)
    return AssignmentResult(sorted(assignments, key=lambda a: a.task_id), sorted(unassigned))


def greedy_assign(
    tasks: Sequence[AssignmentTask], brokers: Sequence[BrokerProfile], skill: SkillFn = default_skill
) -> AssignmentResult:
    """Reference: take the highest-scoring allowed (task, broker) pairs first while capacity lasts."""
    scores = skill_matrix(tasks, brokers, skill)
    remaining = [max(b.capacity, 0) for b in brokers]
    pairs = sorted(
        (
            (float(scores[i, j]), i, j)
            for i in range(len(tasks))
            for j in range(len(brokers))
            if not np.isnan(scores[i, j])
        ),
        key=lambda p: (-p[0], p[1], p[2]),
    )
    done: set[int] = set()
    assignments = []
    for score, i, j in pairs:
        if i in done or remaining[j] == 0:
            continue
        done.add(i)
        remaining[j] -= 1
        assignments.append(Assignment(tasks[i].id, brokers[j].id, score))
    unassigned = sorted(t.id for i, t in enumerate(tasks) if i not in done)
    return AssignmentResult(sorted(assignments, key=lambda a: a.task_id), unassigned)
