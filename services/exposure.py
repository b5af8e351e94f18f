"""Fair exposure in matching runs: which institutions the stored top-k lists show, and the capped lists.

Every run reports the exposure of the achievement-owning organisations in the needs' top-k lists
(`learning.exposure.exposure_report`): before the caps (the engine's order) and as stored. With
``fair=True`` each need's list is chosen from its top ``CANDIDATE_FACTOR * k`` under `CAPS` (at most
two places per organisation in one list, at most 5% of the run's places per organisation).

`FAIR_BY_DEFAULT` is decided by measurement (README, "Fair exposure"): on only if the demo run loses at
most 1% nDCG@10 against the gold pairs.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from learning.exposure import FairnessCaps, exposure_report, fair_rerank, small_organisations
from matcher.engine import Suggestion

CAPS = FairnessCaps(k=10, per_query_cap=2, run_share=0.05)
CANDIDATE_FACTOR = 3
FAIR_BY_DEFAULT = False


def select_lists(
    ranked: Mapping[int, Sequence[Suggestion]],
    org_of: Mapping[int, int],
    k: int,
    *,
    fair: bool,
    caps: FairnessCaps = CAPS,
) -> tuple[dict[int, list[Suggestion]], dict[str, Any]]:
    """The top-``k`` suggestions to store per need, and the run's exposure figures (before/after)."""
    candidates = {q: [(s.id, s.score) for s in found] for q, found in ranked.items()}
    owner = {doc: org_of.get(doc, -1) for found in candidates.values() for doc, _ in found}
    small = small_organisations(Counter(org_of.values()))
    plain = {q: [d for d, _ in found[:k]] for q, found in candidates.items()}
    shown = (
        fair_rerank(candidates, owner, FairnessCaps(k, caps.per_query_cap, caps.run_share)) if fair else plain
    )
    by_id = {q: {s.id: s for s in found} for q, found in ranked.items()}
    lists = {q: [by_id[q][d] for d in docs] for q, docs in shown.items()}
    figures: dict[str, Any] = {
        "fair": fair,
        "caps": {"per_query": caps.per_query_cap, "run_share": caps.run_share} if fair else None,
        "engine_order": exposure_report(candidates, plain, owner, small, k=k).to_dict(),
    }
    if fair:
        figures["stored"] = exposure_report(candidates, shown, owner, small, k=k).to_dict()
    return lists, figures
