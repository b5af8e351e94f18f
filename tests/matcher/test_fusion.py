"""Fusion checked against brute-force re-implementations on small random inputs."""

from __future__ import annotations

import numpy as np
import pytest

from matcher.fusion import Normalization, normalize_scores, reciprocal_rank_fusion, weighted_score_fusion


def random_ranking(rng: np.random.Generator, n: int) -> list[tuple[int, float]]:
    ids = rng.choice(30, size=n, replace=False)
    scores = np.sort(rng.random(n))[::-1]
    return [(int(i), float(s)) for i, s in zip(ids, scores, strict=True)]


def test_rrf_matches_brute_force(rng: np.random.Generator) -> None:
    for _ in range(20):
        lists = {"dense": random_ranking(rng, 12), "lexical": random_ranking(rng, 8)}
        weights = {"dense": float(rng.random()), "lexical": 1.0}
        fused = reciprocal_rank_fusion(lists, k=10, weights=weights)
        expected: dict[int, float] = {}
        for name, ranking in lists.items():
            for position, (doc_id, _) in enumerate(ranking):
                expected[doc_id] = expected.get(doc_id, 0.0) + weights[name] / (10 + position + 1)
        assert [h.id for h in fused] == sorted(expected, key=lambda d: (-expected[d], d))
        for hit in fused:
            assert hit.score == pytest.approx(expected[hit.id])


def test_components_are_kept() -> None:
    fused = reciprocal_rank_fusion({"dense": [(1, 0.9), (2, 0.8)], "lexical": [(2, 7.5)]})
    by_id = {h.id: h for h in fused}
    assert by_id[2].components == {"dense": 0.8, "dense_rank": 2.0, "lexical": 7.5, "lexical_rank": 1.0}
    assert by_id[1].components == {"dense": 0.9, "dense_rank": 1.0}
    assert fused[0].id == 2  # in both lists


@pytest.mark.parametrize("method", ["minmax", "zscore"])
def test_weighted_matches_brute_force(method: Normalization, rng: np.random.Generator) -> None:
    dense, lexical = random_ranking(rng, 10), random_ranking(rng, 10)
    fused = weighted_score_fusion(
        {"dense": dense, "lexical": lexical}, {"dense": 0.3, "lexical": 0.7}, normalization=method
    )

    def norm(ranking: list[tuple[int, float]]) -> dict[int, float]:
        values = np.array([s for _, s in ranking])
        if method == "minmax":
            z = (values - values.min()) / (values.max() - values.min())
        else:
            z = (values - values.mean()) / values.std()
        return {doc_id: float(v) for (doc_id, _), v in zip(ranking, z, strict=True)}

    nd, nl = norm(dense), norm(lexical)
    ids = set(nd) | set(nl)
    expected = {i: 0.3 * nd.get(i, min(nd.values())) + 0.7 * nl.get(i, min(nl.values())) for i in ids}
    assert [h.id for h in fused] == sorted(expected, key=lambda d: (-expected[d], d))
    assert fused[0].score == pytest.approx(max(expected.values()))


def test_normalize_degenerate_and_errors() -> None:
    assert normalize_scores({1: 2.0, 2: 2.0}, "minmax") == {1: 1.0, 2: 1.0}
    assert normalize_scores({1: 2.0}, "zscore") == {1: 0.0}
    assert normalize_scores({}, "minmax") == {}
    with pytest.raises(ValueError):
        normalize_scores({1: 1.0}, "softmax")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        reciprocal_rank_fusion({}, k=0)
