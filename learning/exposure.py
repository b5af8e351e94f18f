"""Fair exposure of institutions across a matching run: measure it, and re-rank with caps.

Exposure of a result is the usual position weight ``1 / log2(rank + 1)`` (what nDCG's discount assumes a
reader gives it); an organisation's exposure is the sum over every query's top-k. Measured per run:
the share of organisations with at least one result in any top-k, the Gini coefficient of exposure
over organisations that had a candidate, and exposure against relevance (score mass among the
candidates) for small and large organisations.

The re-ranking follows the load constraints of OpenReview's paper-reviewer matcher
(github.com/openreview/openreview-matcher: a min-cost-flow assignment with a maximum load per reviewer
over the whole run; FairFlow after Kobren et al., "Paper Matching with Local Fairness Constraints",
adds lower bounds), greedily rather than by a flow solver: an
organisation may hold at most ``per_query_cap`` places of one top-k, and at most ``run_cap`` top-k
places over the run; a capped organisation's result gives way to the next best candidate. Queries are
served in order of how much their best candidate depends on the capped organisations (least first), so
the run-level cap costs the queries that have alternatives.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

Ranked = Sequence[tuple[int, float]]
"""(document id, score) best first."""


def position_weight(rank: int) -> float:
    """Exposure of 1-based ``rank``."""
    return 1.0 / math.log2(rank + 1)


def gini(values: Sequence[float]) -> float:
    """Gini coefficient of non-negative values (0 = equal, toward 1 = concentrated)."""
    xs = sorted(max(v, 0.0) for v in values)
    n, total = len(xs), sum(xs)
    if n == 0 or total == 0:
        return 0.0
    weighted = sum((i + 1) * x for i, x in enumerate(xs))
    return (2 * weighted) / (n * total) - (n + 1) / n


@dataclass(frozen=True)
class ExposureReport:
    """Exposure figures of one run (top-``k`` of every query)."""

    queries: int
    organisations: int
    share_in_any_top_k: float
    gini: float
    small_exposure_share: float
    small_relevance_share: float
    small_organisations: int
    k: int

    @property
    def small_exposure_ratio(self) -> float:
        """Exposure share over relevance share of small organisations (1 = exposed as relevant)."""
        return self.small_exposure_share / self.small_relevance_share if self.small_relevance_share else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "small_exposure_ratio": self.small_exposure_ratio}


def small_organisations(postings_per_org: Mapping[int, int]) -> set[int]:
    """Organisations with no more postings than the median organisation (the smaller half)."""
    if not postings_per_org:
        return set()
    counts = sorted(postings_per_org.values())
    median = counts[(len(counts) - 1) // 2]
    return {org for org, n in postings_per_org.items() if n <= median}


def exposure_report(
    candidates: Mapping[int, Ranked],
    shown: Mapping[int, Sequence[int]],
    org_of: Mapping[int, int],
    small: set[int],
    *,
    k: int = 10,
) -> ExposureReport:
    """Measure the shown top-``k`` lists against all candidates (relevance: positive score mass)."""
    exposure: dict[int, float] = defaultdict(float)
    relevance: dict[int, float] = defaultdict(float)
    eligible: set[int] = set()
    for query, ranked in candidates.items():
        for doc, score in ranked:
            eligible.add(org_of[doc])
            relevance[org_of[doc]] += max(score, 0.0)
        for rank, doc in enumerate(shown.get(query, [])[:k], start=1):
            exposure[org_of[doc]] += position_weight(rank)
    total_exposure = sum(exposure.values()) or 1.0
    total_relevance = sum(relevance.values()) or 1.0
    small_eligible = eligible & small
    return ExposureReport(
        queries=len(candidates),
        organisations=len(eligible),
        share_in_any_top_k=len([o for o in eligible if exposure[o] > 0]) / max(len(eligible), 1),
        gini=gini([exposure[o] for o in eligible]),
        small_exposure_share=sum(exposure[o] for o in small_eligible) / total_exposure,
        small_relevance_share=sum(relevance[o] for o in small_eligible) / total_relevance,
        small_organisations=len(small_eligible),
        k=k,
    )


@dataclass(frozen=True)
class FairnessCaps:
    """At most ``per_query_cap`` places of one top-k per organisation; ``run_share`` of all top-k places
    of a run per organisation (None: no run-level cap)."""

    k: int = 10
    per_query_cap: int = 2
    run_share: float | None = 0.05


def fair_rerank(
    candidates: Mapping[int, Ranked], org_of: Mapping[int, int], caps: FairnessCaps
) -> dict[int, list[int]]:
    """Top-``k`` per query under the caps; order within a list stays by score."""
    places = caps.k * len(candidates)
    run_cap = (
        math.inf if caps.run_share is None else max(caps.per_query_cap, math.ceil(caps.run_share * places))
    )
    used: Counter[int] = Counter()
    # queries whose top candidates spread over many organisations go first: they cost the cap least
    order = sorted(candidates, key=lambda q: (-len({org_of[d] for d, _ in candidates[q][: caps.k]}), q))
    shown: dict[int, list[int]] = {}
    for query in order:
        chosen: list[int] = []
        in_list: Counter[int] = Counter()
        deferred: list[int] = []
        for doc, _ in candidates[query]:
            if len(chosen) == caps.k:
                break
            org = org_of[doc]
            if in_list[org] >= caps.per_query_cap or used[org] >= run_cap:
                deferred.append(doc)
                continue
            chosen.append(doc)
            in_list[org] += 1
            used[org] += 1
        for doc in deferred:  # too few alternatives: fill rather than show fewer results
            if len(chosen) == caps.k:
                break
            chosen.append(doc)
            used[org_of[doc]] += 1
        rank_of = {doc: i for i, (doc, _) in enumerate(candidates[query])}
        shown[query] = sorted(chosen, key=rank_of.__getitem__)
    return shown
