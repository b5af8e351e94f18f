"""Base against candidate encoder on the same queries: dense alone and the fused default, paired.

What promotion reads: for each set and system, both means with 95% bootstrap intervals and the paired
difference (candidate - base) with its interval; a difference whose interval lies below zero is a
significant loss.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from evaluation.cache import DEFAULT_CACHE_DIR
from evaluation.datasets import Dataset
from evaluation.harness import HarnessConfig, run_evaluation
from evaluation.metrics import bootstrap_ci, paired_bootstrap
from evaluation.results import ENGINE_SYSTEM

METRIC = "nDCG@10"
FUSED = "fused"
DENSE = "dense"


@dataclass(frozen=True)
class ComparisonRow:
    """One set, one system (dense alone or the fused default), base against candidate on nDCG@10."""

    set_label: str
    system: str
    queries: int
    base: float
    base_ci: tuple[float, float]
    candidate: float
    candidate_ci: tuple[float, float]
    delta: float
    delta_ci: tuple[float, float]

    @property
    def significant_loss(self) -> bool:
        """The whole interval of the difference is below zero."""
        return self.delta_ci[1] < 0

    @property
    def significant_gain(self) -> bool:
        """The whole interval of the difference is above zero."""
        return self.delta_ci[0] > 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ComparisonRow:
        values = dict(data)
        for key in ("base_ci", "candidate_ci", "delta_ci"):
            values[key] = tuple(values[key])
        return cls(**values)


def _per_query(dataset: Dataset, encoder: str, cache_dir: Path | None, workers: int) -> dict[str, Any]:
    config = HarnessConfig(
        engine_encoder=encoder,
        dense_baselines=(encoder,),
        include_bm25=False,
        cache_dir=cache_dir,
        workers=workers,
    )
    run = run_evaluation(dataset, config)
    return {
        FUSED: run.systems[ENGINE_SYSTEM].per_query.values[METRIC],
        DENSE: run.systems[encoder].per_query.values[METRIC],
    }


def compare_encoders(
    label: str,
    dataset: Dataset,
    base: str,
    candidate: str,
    *,
    cache_dir: Path | None = DEFAULT_CACHE_DIR,
    workers: int = 2,
    seed: int = 0,
    n_resamples: int = 1000,
) -> list[ComparisonRow]:
    """Dense and fused rows for one set (the same queries, paired bootstrap over them)."""
    before = _per_query(dataset, base, cache_dir, workers)
    after = _per_query(dataset, candidate, cache_dir, workers)
    rng = np.random.default_rng(seed)
    rows = []
    for system in (DENSE, FUSED):
        b, c = before[system], after[system]
        diff = paired_bootstrap(c, b, rng=rng, n_resamples=n_resamples)
        rows.append(
            ComparisonRow(
                set_label=label,
                system=system,
                queries=int(b.size),
                base=float(b.mean()),
                base_ci=bootstrap_ci(b, rng=rng, n_resamples=n_resamples),
                candidate=float(c.mean()),
                candidate_ci=bootstrap_ci(c, rng=rng, n_resamples=n_resamples),
                delta=diff.mean,
                delta_ci=(diff.low, diff.high),
            )
        )
    return rows


def markdown_table(rows: Sequence[ComparisonRow], *, base: str = "base", candidate: str = "adapted") -> str:
    """nDCG@10 with 95% intervals; Δ = candidate - base, paired; ▲/▼ where the interval excludes 0."""
    lines = [
        f"| set | system | queries | {base} | {candidate} | Δ (95% CI) |",
        "|---|---|---:|---|---|---|",
    ]
    for r in rows:
        mark = " ▲" if r.significant_gain else " ▼" if r.significant_loss else ""
        lines.append(
            f"| {r.set_label} | {r.system} | {r.queries} | {r.base:.4f} [{r.base_ci[0]:.3f}, {r.base_ci[1]:.3f}] "
            f"| {r.candidate:.4f} [{r.candidate_ci[0]:.3f}, {r.candidate_ci[1]:.3f}] "
            f"| {r.delta:+.4f} [{r.delta_ci[0]:+.3f}, {r.delta_ci[1]:+.3f}]{mark} |"
        )
    return "\n".join(lines) + "\n"
