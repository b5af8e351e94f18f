"""Hard filters over posting attributes."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import numpy as np
import pytest

from matcher.attributes import AttributeTable
from matcher.filters import PostingFilter, region_prefix
from matcher.postings import Posting, Side


def ach(**attrs: Any) -> Posting:
    attrs.setdefault("id", 1)
    return Posting(side=Side.ACHIEVEMENT, title="t", body="b", **attrs)


def need(**attrs: Any) -> Posting:
    attrs.setdefault("id", 2)
    return Posting(side=Side.NEED, title="t", body="b", **attrs)


def test_region_prefix() -> None:
    assert (
        region_prefix("410000") == "41" and region_prefix("410100") == "4101" and region_prefix("41") == "41"
    )


def test_each_constraint() -> None:
    assert PostingFilter(field_codes=frozenset({"08"})).matches(ach(field_code="0812"))
    assert not PostingFilter(field_codes=frozenset({"08"})).matches(ach(field_code="0912"))
    assert not PostingFilter(field_codes=frozenset({"08"})).matches(ach())
    assert PostingFilter(region_codes=frozenset({"410000"})).matches(ach(region_code="410100"))
    assert not PostingFilter(region_codes=frozenset({"410000"})).matches(ach(region_code="110000"))
    assert not PostingFilter(max_price=Decimal(10)).matches(ach(asking_price=Decimal("10.01")))
    assert PostingFilter(max_price=Decimal(10)).matches(ach(asking_price=Decimal(10)))
    assert PostingFilter(max_price=Decimal(10)).matches(ach())  # price on request passes
    assert not PostingFilter(min_budget=Decimal(100)).matches(need(budget_max=Decimal(99)))
    assert not PostingFilter(min_maturity=6).matches(ach(maturity=5))
    assert PostingFilter(min_maturity=6).matches(need(maturity=5))  # applies to achievements only
    assert not PostingFilter(max_required_maturity=4).matches(need(maturity=5))
    assert not PostingFilter(modes=frozenset({"转让"})).matches(ach(modes=frozenset({"许可"})))
    assert PostingFilter(modes=frozenset({"转让"})).matches(ach(modes=frozenset({"许可", "转让"})))
    assert not PostingFilter().matches(ach(status="closed"))
    assert PostingFilter(statuses=None).matches(ach(status="closed"))
    assert not PostingFilter(visibilities=frozenset({"public"})).matches(ach(visibility="confidential"))
    assert not PostingFilter(exclude_ids=frozenset({1})).matches(ach(id=1))
    assert not PostingFilter(exclude_org_ids=frozenset({5})).matches(ach(org_id=5))


def test_for_counterparts_of_a_need() -> None:
    query = need(budget_max=Decimal(500), maturity=6, modes=frozenset({"转让"}), org_id=9)
    flt = PostingFilter.for_counterparts(query)
    candidates = [
        ach(id=1, asking_price=Decimal(400), maturity=7, modes=frozenset({"转让"})),
        ach(id=2, asking_price=Decimal(600), maturity=7),
        ach(id=3, asking_price=Decimal(400), maturity=5),
        ach(id=4, org_id=9),
        ach(id=5, modes=frozenset({"许可"})),
    ]
    assert flt.allowed_ids(candidates) == {1}
    assert PostingFilter.for_counterparts(query, max_price=None).allowed_ids(candidates) == {1, 2}


def test_for_counterparts_of_an_achievement() -> None:
    query = ach(asking_price=Decimal(300), maturity=5)
    flt = PostingFilter.for_counterparts(query)
    assert flt.allowed_ids(
        [
            need(id=1, budget_max=Decimal(200)),
            need(id=2, budget_max=Decimal(300)),
            need(id=3, maturity=7),
            need(id=4),
        ]
    ) == {2, 4}


def random_posting(rng: np.random.Generator, pid: int, side: Side) -> Posting:
    def maybe(value: Any) -> Any:
        return None if rng.random() < 0.2 else value

    return Posting(
        id=pid,
        side=side,
        title="t",
        body="b",
        field_code=maybe(str(rng.choice(["08", "0812", "09", "0901"]))),
        region_code=maybe(str(rng.choice(["410100", "410200", "110000"]))),
        org_id=maybe(int(rng.integers(0, 5))),
        budget_max=maybe(Decimal(int(rng.integers(0, 1000))) / 10) if side is Side.NEED else None,
        asking_price=maybe(Decimal(int(rng.integers(0, 1000))) / 10) if side is Side.ACHIEVEMENT else None,
        maturity=maybe(int(rng.integers(1, 10))),
        modes=frozenset(m for m in ("转让", "许可", "作价入股") if rng.random() < 0.4),
        status=str(rng.choice(["open", "open", "closed"])),
        visibility=str(rng.choice(["public", "confidential"])),
    )


def random_filter(rng: np.random.Generator) -> PostingFilter:
    def maybe(value: Any) -> Any:
        return value if rng.random() < 0.5 else None

    return PostingFilter(
        field_codes=maybe(frozenset({str(rng.choice(["08", "0812", "09"]))})),
        region_codes=maybe(frozenset({str(rng.choice(["410000", "410100", "110000"]))})),
        max_price=maybe(Decimal(int(rng.integers(0, 1000))) / 10),
        min_budget=maybe(Decimal(int(rng.integers(0, 1000))) / 10),
        min_maturity=maybe(int(rng.integers(1, 10))),
        max_required_maturity=maybe(int(rng.integers(1, 10))),
        modes=maybe(frozenset({str(rng.choice(["转让", "许可", "技术服务"]))})),
        statuses=maybe(frozenset({"open"})),
        visibilities=maybe(frozenset({"public"})),
        exclude_ids=frozenset(int(i) for i in rng.integers(0, 300, size=5)),
        exclude_org_ids=frozenset({int(rng.integers(0, 5))}) if rng.random() < 0.5 else frozenset(),
    )


@pytest.mark.parametrize("side", list(Side))
def test_vectorised_table_agrees_with_reference_loop(side: Side) -> None:
    rng = np.random.default_rng(99)
    table = AttributeTable(side)
    postings = {i: random_posting(rng, i, side) for i in range(300)}
    table.upsert(postings.values())
    for pid in range(0, 300, 7):  # updates reuse rows, removals free them
        postings[pid] = random_posting(rng, pid, side)
        table.upsert([postings[pid]])
    removed = [int(i) for i in rng.choice(300, size=40, replace=False)]
    table.remove(removed)
    for pid in removed:
        postings.pop(pid)
    table.upsert([random_posting(rng, 1000 + i, side) for i in range(3)])
    table.remove([1000, 1001, 1002])
    assert len(table) == len(postings)
    for _ in range(200):
        flt = random_filter(rng)
        assert set(table.allowed_ids(flt).tolist()) == flt.allowed_ids(postings.values())
