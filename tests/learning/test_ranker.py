"""The re-ranker learns what the broker's decisions reward, measured on newer needs than it saw."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

import pytest

from learning.ranker import FEATURES, Decision, features, time_split_evaluation
from matcher.engine import Suggestion
from matcher.explain import Explanation
from matcher.postings import Posting, Side


def _suggestion(doc: int, rank: int, fused: float) -> Suggestion:
    components = {"dense": fused, "lexical": fused, "fused": fused, "field_match": 1.0, "region_match": 0.0}
    return Suggestion(doc, fused, rank, components, Explanation(components=components))


def test_features_follow_the_documented_order() -> None:
    need = Posting(1, Side.NEED, "n", "n", budget_max=Decimal("100"), maturity=7, modes=frozenset({"转让"}))
    cand = Posting(
        2,
        Side.ACHIEVEMENT,
        "a",
        "a",
        asking_price=Decimal("150"),
        maturity=4,
        org_id=9,
        modes=frozenset({"转让", "许可"}),
    )
    row = dict(
        zip(FEATURES, features(need, cand, _suggestion(2, 4, 0.5), {9: Counter(accepted=3)}), strict=True)
    )
    assert row["over_budget"] == pytest.approx(0.5) and row["maturity_gap"] == 3
    assert row["inverse_rank"] == 0.25 and row["shared_modes"] == 1 and row["org_accepted"] == 3


def test_time_split_learns_that_over_budget_candidates_are_rejected() -> None:
    # each need: 6 candidates in fused order; the top 3 are far over budget and always rejected
    needs, candidates, decisions, postings, need_postings = [], {}, [], {}, {}
    for q in range(40):
        need_postings[q] = Posting(q, Side.NEED, "n", "n", budget_max=Decimal("100"))
        needs.append(q)
        found = []
        for r in range(6):
            doc = 1000 + q * 10 + r
            price = Decimal("500") if r < 3 else Decimal("80")
            postings[doc] = Posting(doc, Side.ACHIEVEMENT, "a", "a", asking_price=price, org_id=r)
            found.append(_suggestion(doc, r + 1, 1.0 - 0.1 * r))
            decisions.append(Decision(q, doc, 1 if r >= 3 else 0))
        candidates[q] = found
    result = time_split_evaluation(needs, candidates, decisions, postings, need_postings, train_share=0.5)
    assert result.train_needs == 20 and result.test_needs == 20
    assert result.learned > result.fused and result.delta_ci[0] > 0
    assert result.coefficients["over_budget"] < 0
