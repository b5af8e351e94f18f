"""Exposure figures and the capped re-ranking."""

from __future__ import annotations

from collections import Counter

import pytest

from learning.exposure import FairnessCaps, exposure_report, fair_rerank, gini, small_organisations


def test_gini() -> None:
    assert gini([1, 1, 1, 1]) == pytest.approx(0.0)
    assert gini([0, 0, 0, 4]) == pytest.approx(0.75)
    assert gini([]) == 0.0


def _run() -> tuple[dict[int, list[tuple[int, float]]], dict[int, int]]:
    # org 1 (big) owns docs 0-9 and scores highest everywhere; orgs 2..6 own one doc each
    org_of = dict.fromkeys(range(10), 1) | {10 + i: 2 + i for i in range(5)}
    candidates = {
        q: [(d, 1.0 - 0.01 * d) for d in range(10)] + [(10 + i, 0.8 - 0.01 * i) for i in range(5)]
        for q in range(20)
    }
    return candidates, org_of


def test_caps_hold_per_query_and_across_the_run() -> None:
    candidates, org_of = _run()
    caps = FairnessCaps(k=5, per_query_cap=2, run_share=0.3)
    shown = fair_rerank(candidates, org_of, caps)
    for docs in shown.values():
        assert len(docs) == 5
        assert Counter(org_of[d] for d in docs)[1] <= 2
    used = Counter(org_of[d] for docs in shown.values() for d in docs)
    assert used[1] <= 30  # 0.3 of 100 places
    assert all(used[o] > 0 for o in range(2, 7))


def test_report_shows_the_shift_to_small_organisations() -> None:
    candidates, org_of = _run()
    small = small_organisations(Counter(org_of.values()))
    assert small == {2, 3, 4, 5, 6}
    plain = {q: [d for d, _ in ranked[:5]] for q, ranked in candidates.items()}
    before = exposure_report(candidates, plain, org_of, small, k=5)
    after = exposure_report(
        candidates, fair_rerank(candidates, org_of, FairnessCaps(k=5)), org_of, small, k=5
    )
    assert before.share_in_any_top_k == pytest.approx(1 / 6) and before.small_exposure_share == 0.0
    assert after.share_in_any_top_k > before.share_in_any_top_k
    assert after.gini < before.gini and after.small_exposure_ratio > before.small_exposure_ratio
