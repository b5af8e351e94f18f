"""Live evaluation from broker decisions on engine suggestions.

Offline sets say how well the engine ranks proxies; broker decisions say how well it serves the
marketplace. This module is pure: the service layer reads decided matches from the database and
passes them in, so no I/O happens here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

import numpy as np


class Decision(StrEnum):
    """A broker's verdict on one suggestion (later states such as contracted count as accepted)."""

    ACCEPTED = "accepted"
    REJECTED = "rejected"


@dataclass(frozen=True)
class DecidedMatch:
    """One suggestion a broker has decided on.

    Attributes:
        score: the engine's fused score when suggested.
        rank: 1-based rank of the suggestion in its result list.
        status: the decision; plain strings "accepted"/"rejected" are accepted.
        contract_amount: contract turnover (yuan) the match led to, if any.
    """

    score: float
    rank: int
    status: Decision | str
    contract_amount: Decimal | None = None

    @property
    def accepted(self) -> bool:
        """True for an accepted suggestion; raises on a status that is neither decision."""
        return Decision(self.status) is Decision.ACCEPTED


@dataclass(frozen=True)
class ScoreBand:
    """Acceptance inside one score interval ``[low, high)`` (the last band includes ``high``)."""

    low: float
    high: float
    decided: int
    accepted: int

    @property
    def acceptance_rate(self) -> float | None:
        """Accepted share, or None for an empty band."""
        return self.accepted / self.decided if self.decided else None


@dataclass(frozen=True)
class LiveReport:
    """What broker decisions say about the engine."""

    decided: int
    accepted: int
    precision_at_k: dict[int, float | None]
    calibration: list[ScoreBand]
    contract_amount: Decimal
    contracts: int

    @property
    def acceptance_rate(self) -> float | None:
        """Accepted share of all decided suggestions."""
        return self.accepted / self.decided if self.decided else None


def precision_at_k(matches: Sequence[DecidedMatch], k: int) -> float | None:
    """Accepted share of the decided suggestions shown at rank <= k (None when there are none)."""
    shown = [m for m in matches if m.rank <= k]
    if not shown:
        return None
    return sum(m.accepted for m in shown) / len(shown)


def score_bands(
    matches: Sequence[DecidedMatch], *, edges: Sequence[float] | None = None, n_bands: int = 5
) -> list[ScoreBand]:
    """Calibration table: acceptance rate per score band.

    Args:
        matches: decided suggestions.
        edges: increasing band edges; by default equal-count quantiles of the scores, because fused
            scores have no fixed scale (RRF scores sit near 0.03, cosine near 0.8).
        n_bands: number of quantile bands when ``edges`` is not given.
    """
    if not matches:
        return []
    scores = np.array([m.score for m in matches], dtype=np.float64)
    cuts = (
        np.unique(np.quantile(scores, np.linspace(0, 1, n_bands + 1))) if edges is None else np.array(edges)
    )
    if cuts.size < 2:
        cuts = np.array([scores.min(), scores.max()])
    bands: list[ScoreBand] = []
    for i in range(cuts.size - 1):
        low, high = float(cuts[i]), float(cuts[i + 1])
        last = i == cuts.size - 2
        inside = [m for m in matches if low <= m.score < high or (last and m.score == high)]
        bands.append(
            ScoreBand(low=low, high=high, decided=len(inside), accepted=sum(m.accepted for m in inside))
        )
    return bands


def evaluate_decisions(
    matches: Sequence[DecidedMatch],
    *,
    ks: Sequence[int] = (1, 5, 10),
    edges: Sequence[float] | None = None,
    n_bands: int = 5,
) -> LiveReport:
    """Precision@k, calibration by score band and contract turnover that came from suggestions."""
    accepted = [m for m in matches if m.accepted]
    amounts = [m.contract_amount for m in accepted if m.contract_amount is not None]
    return LiveReport(
        decided=len(matches),
        accepted=len(accepted),
        precision_at_k={k: precision_at_k(matches, k) for k in ks},
        calibration=score_bands(matches, edges=edges, n_bands=n_bands),
        contract_amount=sum(amounts, Decimal("0.00")).quantize(Decimal("0.01")),
        contracts=len(amounts),
    )
