"""Metrics against hand-computed cases and against sklearn (independent oracle, same linear gain)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn.metrics import ndcg_score

from evaluation.metrics import (
    bootstrap_ci,
    dcg,
    evaluate_rankings,
    mrr_at_k,
    ndcg_at_k,
    paired_bootstrap,
    query_metrics,
    recall_at_k,
)


def test_hand_computed_binary_case() -> None:
    ranked = ["a", "b", "c", "d"]
    judged = {"b": 1, "d": 1, "z": 1}
    assert recall_at_k(ranked, judged, 1) == 0.0
    assert recall_at_k(ranked, judged, 2) == pytest.approx(1 / 3)
    assert recall_at_k(ranked, judged, 10) == pytest.approx(2 / 3)
    assert mrr_at_k(ranked, judged, 10) == pytest.approx(0.5)
    assert mrr_at_k(ranked, judged, 1) == 0.0
    # DCG = 1/log2(3) + 1/log2(5); IDCG = 1 + 1/log2(3) + 1/log2(4)
    expected = (1 / math.log2(3) + 1 / math.log2(5)) / (1 + 1 / math.log2(3) + 0.5)
    assert ndcg_at_k(ranked, judged, 10) == pytest.approx(expected)


def test_hand_computed_graded_case() -> None:
    ranked = ["x", "y", "z"]
    judged = {"x": 1, "y": 0, "z": 3}
    # DCG = 1 + 0 + 3/2 = 2.5; IDCG = 3 + 1/log2(3) + 0
    assert ndcg_at_k(ranked, judged, 3) == pytest.approx(2.5 / (3 + 1 / math.log2(3)))
    assert dcg([3, 2]) == pytest.approx(3 + 2 / math.log2(3))


def test_perfect_and_empty_rankings() -> None:
    judged = {"a": 2, "b": 1}
    assert ndcg_at_k(["a", "b"], judged, 10) == pytest.approx(1.0)
    assert ndcg_at_k([], judged, 10) == 0.0
    assert query_metrics([], {"a": 0}) == dict.fromkeys(query_metrics([], {}), 0.0)


def test_duplicates_earn_nothing_twice() -> None:
    assert ndcg_at_k(["a", "a"], {"a": 1, "b": 1}, 2) < ndcg_at_k(["a", "b"], {"a": 1, "b": 1}, 2)


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("k", [1, 5, 10])
def test_ndcg_matches_sklearn(seed: int, k: int) -> None:
    rng = np.random.default_rng(seed)
    gains = rng.integers(0, 4, size=30)
    gains[0] = 2  # at least one relevant document
    scores = rng.permutation(30).astype(float)  # distinct scores: sklearn averages over ties
    ranked = [str(i) for i in np.argsort(-scores)]
    ours = ndcg_at_k(ranked, {str(i): int(g) for i, g in enumerate(gains)}, k)
    assert ours == pytest.approx(ndcg_score([gains], [scores], k=k))


def test_evaluate_rankings_means_and_missing_query() -> None:
    qrels = {"q1": {"d1": 1}, "q2": {"d2": 1}}
    per_query = evaluate_rankings({"q1": ["d1", "d2"]}, qrels, ["q1", "q2"])
    assert per_query.values["Recall@1"].tolist() == [1.0, 0.0]
    assert per_query.mean()["MRR@10"] == pytest.approx(0.5)


def test_bootstrap_is_deterministic_with_a_seed() -> None:
    values = np.random.default_rng(7).random(200)
    first = bootstrap_ci(values, rng=np.random.default_rng(42))
    second = bootstrap_ci(values, rng=np.random.default_rng(42))
    other = bootstrap_ci(values, rng=np.random.default_rng(43))
    assert first == second
    assert first != other
    assert first[0] < values.mean() < first[1]


def test_paired_bootstrap_detects_a_clear_difference() -> None:
    rng = np.random.default_rng(3)
    base = rng.random(300)
    better = np.clip(base + 0.2, 0, 1)
    diff = paired_bootstrap(better, base, rng=np.random.default_rng(0))
    assert diff.mean == pytest.approx(float((better - base).mean()))
    assert diff.significant and diff.low > 0
    same = paired_bootstrap(base, base, rng=np.random.default_rng(0))
    assert same.mean == 0.0 and not same.significant
    with pytest.raises(ValueError, match="equal shapes"):
        paired_bootstrap(base, base[:10], rng=np.random.default_rng(0))
