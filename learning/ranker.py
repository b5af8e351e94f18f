"""A learned re-ranker over the features the engine already computes, trained on broker decisions.

Features of a (need, candidate achievement) pair: the dense, lexical and fused scores and the fused
rank, field and region agreement, budget fit, maturity gap, shared cooperation modes, and the
candidate organisation's history (its accepted and rejected suggestions among the *training*
decisions only). A scikit-learn logistic regression (standardised inputs) scores the fused top-N; the
re-ranked order is by that probability. Evaluation splits the log by time: train on the older needs'
decisions, test on the newer ones, nDCG@10 with bootstrap intervals against the fused order.
"""

from __future__ import annotations

import pickle
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np

from evaluation.metrics import bootstrap_ci, ndcg_at_k, paired_bootstrap
from matcher.engine import Suggestion
from matcher.postings import Posting

FEATURES: tuple[str, ...] = (
    "dense",
    "lexical",
    "fused",
    "inverse_rank",
    "field_match",
    "region_match",
    "over_budget",
    "maturity_gap",
    "shared_modes",
    "org_accepted",
    "org_rejected",
)


@dataclass(frozen=True)
class Decision:
    """One labelled suggestion: label > 0 positive (graded), 0 rejected."""

    need_id: int
    achievement_id: int
    label: int


def _over_budget(need: Posting, candidate: Posting) -> float:
    """How far the asking price exceeds the budget ceiling, as a share of it (0 when within or unknown)."""
    if need.budget_max is None or candidate.asking_price is None or need.budget_max <= 0:
        return 0.0
    return float(max(Decimal(0), (candidate.asking_price - need.budget_max) / need.budget_max))


def features(
    need: Posting, candidate: Posting, suggestion: Suggestion, history: Mapping[int, Counter[str]]
) -> list[float]:
    """The feature row of one candidate (order: `FEATURES`)."""
    c = suggestion.components
    record = history.get(candidate.org_id or -1, Counter())
    gap = 0.0
    if need.maturity is not None and candidate.maturity is not None:
        gap = float(max(0, need.maturity - candidate.maturity))
    return [
        c.get("dense", 0.0),
        c.get("lexical", 0.0),
        c.get("fused", suggestion.score),
        1.0 / suggestion.rank,
        c.get("field_match", 0.0),
        c.get("region_match", 0.0),
        _over_budget(need, candidate),
        gap,
        float(len(need.modes & candidate.modes) > 0) if need.modes and candidate.modes else 0.0,
        float(record["accepted"]),
        float(record["rejected"]),
    ]


def org_history(decisions: Sequence[Decision], org_of: Mapping[int, int]) -> dict[int, Counter[str]]:
    """Accepted / rejected counts per achievement organisation."""
    history: dict[int, Counter[str]] = {}
    for d in decisions:
        key = "accepted" if d.label > 0 else "rejected"
        history.setdefault(org_of.get(d.achievement_id, -1), Counter())[key] += 1
    return history


class LearnedRanker:
    """Logistic regression on `FEATURES`; `rerank` orders a fused top-N by its probability."""

    def __init__(self, model: Any = None) -> None:
        self.model = model

    def fit(
        self, rows: np.ndarray[Any, Any], labels: np.ndarray[Any, Any], *, seed: int = 0
    ) -> LearnedRanker:
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        if len(set(labels.tolist())) < 2:
            raise ValueError("the decision log needs both accepted and rejected suggestions to learn from")
        self.model = make_pipeline(
            StandardScaler(),
            LogisticRegression(C=1.0, max_iter=1000, class_weight="balanced", random_state=seed),
        )
        self.model.fit(rows, labels)
        return self

    def scores(self, rows: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
        return np.asarray(self.model.predict_proba(rows)[:, 1])

    def coefficients(self) -> dict[str, float]:
        lr = self.model[-1]
        return {name: round(float(w), 4) for name, w in zip(FEATURES, lr.coef_[0], strict=True)}

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(pickle.dumps({"features": FEATURES, "model": self.model}))


@dataclass(frozen=True)
class TimeSplitResult:
    """Fused order against the learned order on the newer decisions."""

    train_needs: int
    test_needs: int
    train_decisions: int
    test_decisions: int
    fused: float
    fused_ci: tuple[float, float]
    learned: float
    learned_ci: tuple[float, float]
    delta: float
    delta_ci: tuple[float, float]
    coefficients: dict[str, float]


def time_split_evaluation(
    needs_in_time_order: Sequence[int],
    candidates: Mapping[int, Sequence[Suggestion]],
    decisions: Sequence[Decision],
    postings: Mapping[int, Posting],
    need_postings: Mapping[int, Posting],
    *,
    train_share: float = 0.7,
    seed: int = 0,
) -> TimeSplitResult:
    """Train on the older ``train_share`` of the needs' decisions, score the newer needs' top-N."""
    cut = int(len(needs_in_time_order) * train_share)
    train_needs, test_needs = set(needs_in_time_order[:cut]), list(needs_in_time_order[cut:])
    judged: dict[int, dict[int, int]] = {}
    for d in decisions:
        judged.setdefault(d.need_id, {})[d.achievement_id] = d.label
    train = [d for d in decisions if d.need_id in train_needs]
    org_of = {i: p.org_id or -1 for i, p in postings.items()}
    history = org_history(train, org_of)
    rows, labels = [], []
    for need_id in sorted(train_needs):
        for s in candidates.get(need_id, []):
            if s.id in judged.get(need_id, {}):
                rows.append(features(need_postings[need_id], postings[s.id], s, history))
                labels.append(int(judged[need_id][s.id] > 0))
    ranker = LearnedRanker().fit(np.array(rows), np.array(labels), seed=seed)
    fused_scores, learned_scores = [], []
    tested = [q for q in test_needs if any(v > 0 for v in judged.get(q, {}).values())]
    for need_id in tested:
        found = list(candidates[need_id])
        qrels = {str(k): v for k, v in judged[need_id].items()}
        fused_scores.append(ndcg_at_k([str(s.id) for s in found], qrels, 10))
        x = np.array([features(need_postings[need_id], postings[s.id], s, history) for s in found])
        order = np.argsort(-ranker.scores(x), kind="stable")
        learned_scores.append(ndcg_at_k([str(found[i].id) for i in order], qrels, 10))
    rng = np.random.default_rng(seed)
    before, after = np.array(fused_scores), np.array(learned_scores)
    diff = paired_bootstrap(after, before, rng=rng)
    return TimeSplitResult(
        train_needs=len(train_needs),
        test_needs=len(tested),
        train_decisions=len(train),
        test_decisions=sum(len(judged.get(q, {})) for q in tested),
        fused=float(before.mean()),
        fused_ci=bootstrap_ci(before, rng=rng),
        learned=float(after.mean()),
        learned_ci=bootstrap_ci(after, rng=rng),
        delta=diff.mean,
        delta_ci=(diff.low, diff.high),
        coefficients=ranker.coefficients(),
    )


def fit_on_log(
    candidates: Mapping[int, Sequence[Suggestion]],
    decisions: Sequence[Decision],
    postings: Mapping[int, Posting],
    need_postings: Mapping[int, Posting],
    *,
    seed: int = 0,
) -> LearnedRanker:
    """Train on every decision of the log (after `time_split_evaluation` has measured the method)."""
    org_of = {i: p.org_id or -1 for i, p in postings.items()}
    history = org_history(decisions, org_of)
    judged = {(d.need_id, d.achievement_id): d.label for d in decisions}
    rows, labels = [], []
    for need_id, found in candidates.items():
        for s in found:
            if (need_id, s.id) in judged:
                rows.append(features(need_postings[need_id], postings[s.id], s, history))
                labels.append(int(judged[(need_id, s.id)] > 0))
    return LearnedRanker().fit(np.array(rows), np.array(labels), seed=seed)
