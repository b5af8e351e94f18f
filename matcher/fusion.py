"""Combining ranked lists from several retrievers (dense, lexical, ...) into one ranking.

* Reciprocal-rank fusion: ``sum_c w_c / (k + rank_c)``; uses ranks only, so scales never matter.
* Weighted score fusion: per-component scores normalised over the candidate set (min-max or z-score),
  then ``sum_c w_c * norm_c``.

Every fused hit keeps the raw score and rank of each component, so a stored match can show them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

__all__ = ["FusedHit", "Normalization", "normalize_scores", "reciprocal_rank_fusion", "weighted_score_fusion"]

Normalization = Literal["minmax", "zscore"]
Ranking = Sequence[tuple[int, float]]


@dataclass(frozen=True)
class FusedHit:
    """One fused candidate: final score plus ``<component>`` scores and ``<component>_rank`` ranks."""

    id: int
    score: float
    components: dict[str, float] = field(default_factory=dict)


def _component_details(rankings: Mapping[str, Ranking]) -> dict[int, dict[str, float]]:
    details: dict[int, dict[str, float]] = {}
    for name, ranking in rankings.items():
        for rank, (doc_id, score) in enumerate(ranking, start=1):
            entry = details.setdefault(doc_id, {})
            entry[name] = float(score)
            entry[f"{name}_rank"] = float(rank)
    return details


def _sorted(fused: dict[int, float], details: dict[int, dict[str, float]]) -> list[FusedHit]:
    order = sorted(fused, key=lambda doc_id: (-fused[doc_id], doc_id))
    return [FusedHit(doc_id, fused[doc_id], details.get(doc_id, {})) for doc_id in order]


def reciprocal_rank_fusion(
    rankings: Mapping[str, Ranking], *, k: float = 60.0, weights: Mapping[str, float] | None = None
) -> list[FusedHit]:
    """Fuse ranked lists (best first) by weighted reciprocal rank; ties go to the smaller id."""
    if k <= 0:
        raise ValueError("rrf k must be positive")
    fused: dict[int, float] = {}
    for name, ranking in rankings.items():
        weight = 1.0 if weights is None else weights.get(name, 0.0)
        if weight == 0.0:
            continue
        for rank, (doc_id, _) in enumerate(ranking, start=1):
            fused[doc_id] = fused.get(doc_id, 0.0) + weight / (k + rank)
    for ranking in rankings.values():
        for doc_id, _ in ranking:
            fused.setdefault(doc_id, 0.0)
    return _sorted(fused, _component_details(rankings))


def normalize_scores(scores: Mapping[int, float], method: Normalization) -> dict[int, float]:
    """Min-max to [0, 1] (all-equal -> 1.0) or z-score (zero spread -> 0.0)."""
    if not scores:
        return {}
    values = list(scores.values())
    if method == "minmax":
        low, high = min(values), max(values)
        if high - low <= 1e-12:
            return dict.fromkeys(scores, 1.0)
        return {i: (s - low) / (high - low) for i, s in scores.items()}
    if method == "zscore":
        mean = sum(values) / len(values)
        std = math.sqrt(sum((v - mean) ** 2 for v in values) / len(values))
        if std <= 1e-12:
            return dict.fromkeys(scores, 0.0)
        return {i: (s - mean) / std for i, s in scores.items()}
    raise ValueError(f"unknown normalization {method!r}")


def weighted_score_fusion(
    rankings: Mapping[str, Ranking],
    weights: Mapping[str, float],
    *,
    normalization: Normalization = "minmax",
) -> list[FusedHit]:
    """Fuse by a weighted sum of normalised scores; a candidate missing from a list gets that list's
    lowest normalised value (min-max: 0) for it."""
    candidates = {doc_id for ranking in rankings.values() for doc_id, _ in ranking}
    fused = dict.fromkeys(candidates, 0.0)
    for name, ranking in rankings.items():
        weight = weights.get(name, 0.0)
        if weight == 0.0 or not ranking:
            continue
        normalised = normalize_scores(dict(ranking), normalization)
        floor = min(normalised.values())
        for doc_id in candidates:
            fused[doc_id] += weight * normalised.get(doc_id, floor)
    return _sorted(fused, _component_details(rankings))
