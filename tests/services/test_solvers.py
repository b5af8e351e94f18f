"""The aggregation that ranks solver organisations, and its single-best baseline."""

from __future__ import annotations

from services.solvers import CONTRACT_BONUS, Hit, aggregate_scores, best_single


def test_several_good_matches_beat_one_slightly_better_match() -> None:
    hits = [Hit(1, 10, 0.80), Hit(2, 20, 0.70), Hit(2, 21, 0.65), Hit(2, 22, 0.60), Hit(2, 23, 0.9 - 0.5)]
    ranked = aggregate_scores(hits)
    assert [o.org_id for o in ranked] == [2, 1]
    assert [h.posting_id for h in ranked[0].hits] == [20, 21, 22]  # the best three justify it
    assert abs(ranked[0].score - (0.70 + 0.65 / 2 + 0.60 / 4)) < 1e-9
    assert [o.org_id for o in best_single(hits)] == [1, 2]


def test_past_contracts_in_the_field_add_a_bounded_bonus() -> None:
    hits = [Hit(1, 10, 0.50), Hit(2, 20, 0.50)]
    ranked = aggregate_scores(hits, {2: 10})
    assert [o.org_id for o in ranked] == [2, 1] and ranked[0].past_contracts == 10
    assert abs(ranked[0].score - (0.50 + 3 * CONTRACT_BONUS)) < 1e-9


def test_a_weak_extra_match_does_not_pull_an_organisation_down() -> None:
    ranked = aggregate_scores([Hit(1, 10, 0.5), Hit(1, 11, -0.7), Hit(2, 20, 0.45)])
    assert [o.org_id for o in ranked] == [1, 2] and [h.posting_id for h in ranked[0].hits] == [10]
