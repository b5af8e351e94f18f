"""Ranking metrics per query, their means, bootstrap intervals and paired comparisons.

Gain formula for nDCG (the same as ``sklearn.metrics.ndcg_score`` and trec_eval / BEIR):
linear gain ``rel_i`` and discount ``1 / log2(i + 1)`` for the document at 1-based rank ``i``::

    DCG@k  = sum_{i=1..k} rel_i / log2(i + 1)
    nDCG@k = DCG@k / IDCG@k     (IDCG: the judged relevances sorted descending; 0 if none > 0)

Recall@k is the share of a query's relevant documents (relevance > 0) found in the top k;
MRR@10 is ``1 / rank`` of the first relevant document within the top 10 (0 if none).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

METRICS: tuple[str, ...] = ("nDCG@10", "MRR@10", "Recall@1", "Recall@10", "Recall@100")
"""The metrics every report carries, in display order."""

DEPTH = 100
"""How many results per query a system must return for the metrics above."""


def _relevant(judged: Mapping[str, int]) -> set[str]:
    return {doc for doc, rel in judged.items() if rel > 0}


def recall_at_k(ranked: Sequence[str], judged: Mapping[str, int], k: int) -> float:
    """Share of the relevant documents that appear in the first ``k`` results (0.0 if none is relevant)."""
    relevant = _relevant(judged)
    if not relevant:
        return 0.0
    return len(relevant.intersection(ranked[:k])) / len(relevant)


def mrr_at_k(ranked: Sequence[str], judged: Mapping[str, int], k: int) -> float:
    """Reciprocal rank of the first relevant result within ``k``; 0.0 when there is none."""
    for position, doc in enumerate(ranked[:k], start=1):
        if judged.get(doc, 0) > 0:
            return 1.0 / position
    return 0.0


def dcg(gains: Sequence[float]) -> float:
    """Discounted cumulative gain of gains listed best rank first (linear gain, log2(rank + 1))."""
    return sum(gain / math.log2(position + 1) for position, gain in enumerate(gains, start=1))


def ndcg_at_k(ranked: Sequence[str], judged: Mapping[str, int], k: int) -> float:
    """Normalised DCG of the first ``k`` results with graded relevance; 0.0 when nothing is relevant.

    Args:
        ranked: document ids, best first (duplicates after the first occurrence earn nothing).
        judged: graded relevance per document id (missing ids count as 0).
        k: cut-off.
    """
    ideal = dcg(sorted((max(rel, 0) for rel in judged.values()), reverse=True)[:k])
    if ideal <= 0:
        return 0.0
    seen: set[str] = set()
    gains: list[float] = []
    for doc in ranked[:k]:
        gains.append(0.0 if doc in seen else float(max(judged.get(doc, 0), 0)))
        seen.add(doc)
    return dcg(gains) / ideal


def query_metrics(ranked: Sequence[str], judged: Mapping[str, int]) -> dict[str, float]:
    """All metrics of ``METRICS`` for one query."""
    return {
        "nDCG@10": ndcg_at_k(ranked, judged, 10),
        "MRR@10": mrr_at_k(ranked, judged, 10),
        "Recall@1": recall_at_k(ranked, judged, 1),
        "Recall@10": recall_at_k(ranked, judged, 10),
        "Recall@100": recall_at_k(ranked, judged, 100),
    }


@dataclass(frozen=True)
class PerQuery:
    """Metric values of one system, one row per query (in ``query_ids`` order)."""

    query_ids: list[str]
    values: dict[str, FloatArray]

    def mean(self) -> dict[str, float]:
        """Mean of every metric over the queries."""
        return {name: float(column.mean()) if column.size else 0.0 for name, column in self.values.items()}


def evaluate_rankings(
    rankings: Mapping[str, Sequence[str]], qrels: Mapping[str, Mapping[str, int]], query_ids: Sequence[str]
) -> PerQuery:
    """Score rankings against judgements; a query with no ranking scores 0 everywhere."""
    rows = [query_metrics(rankings.get(qid, ()), qrels.get(qid, {})) for qid in query_ids]
    values = {name: np.array([row[name] for row in rows], dtype=np.float64) for name in METRICS}
    return PerQuery(query_ids=list(query_ids), values=values)


def bootstrap_ci(
    per_query: FloatArray, *, rng: np.random.Generator, n_resamples: int = 1000, alpha: float = 0.05
) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean over queries (resampling queries with replacement)."""
    if per_query.size == 0:
        return (0.0, 0.0)
    idx = rng.integers(0, per_query.size, size=(n_resamples, per_query.size))
    means = per_query[idx].mean(axis=1)
    return float(np.quantile(means, alpha / 2)), float(np.quantile(means, 1 - alpha / 2))


@dataclass(frozen=True)
class PairedDifference:
    """Mean of ``system - baseline`` over the same queries, with its bootstrap interval."""

    mean: float
    low: float
    high: float

    @property
    def significant(self) -> bool:
        """True when the interval excludes zero."""
        return self.low > 0 or self.high < 0


def paired_bootstrap(
    system: FloatArray,
    baseline: FloatArray,
    *,
    rng: np.random.Generator,
    n_resamples: int = 1000,
    alpha: float = 0.05,
) -> PairedDifference:
    """Compare two systems on the same queries by resampling the per-query differences."""
    if system.shape != baseline.shape:
        raise ValueError(f"paired comparison needs equal shapes, got {system.shape} and {baseline.shape}")
    diff = system - baseline
    low, high = bootstrap_ci(diff, rng=rng, n_resamples=n_resamples, alpha=alpha)
    return PairedDifference(mean=float(diff.mean()) if diff.size else 0.0, low=low, high=high)
