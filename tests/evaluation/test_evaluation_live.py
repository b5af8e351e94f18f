"""Live evaluation from broker decisions."""

from __future__ import annotations

from decimal import Decimal

import pytest

from evaluation.live import DecidedMatch, Decision, evaluate_decisions, precision_at_k, score_bands


def sample() -> list[DecidedMatch]:
    return [
        DecidedMatch(score=0.9, rank=1, status=Decision.ACCEPTED, contract_amount=Decimal("100000.50")),
        DecidedMatch(score=0.8, rank=2, status="accepted", contract_amount=None),
        DecidedMatch(score=0.7, rank=1, status="rejected"),
        DecidedMatch(score=0.3, rank=6, status="rejected"),
        DecidedMatch(score=0.2, rank=12, status="accepted", contract_amount=Decimal("2000")),
    ]


def test_precision_at_k_counts_only_shown_ranks() -> None:
    matches = sample()
    assert precision_at_k(matches, 1) == pytest.approx(0.5)
    assert precision_at_k(matches, 5) == pytest.approx(2 / 3)
    assert precision_at_k(matches, 10) == pytest.approx(2 / 4)
    assert precision_at_k([], 1) is None


def test_fixed_edges_calibration() -> None:
    bands = score_bands(sample(), edges=[0.0, 0.5, 1.0])
    assert [(b.decided, b.accepted) for b in bands] == [(2, 1), (3, 2)]
    assert bands[1].acceptance_rate == pytest.approx(2 / 3)
    assert score_bands(sample(), edges=[0.95, 1.0])[0].acceptance_rate is None


def test_quantile_bands_cover_every_match() -> None:
    bands = score_bands(sample(), n_bands=2)
    assert sum(b.decided for b in bands) == 5
    assert bands[0].low == pytest.approx(0.2) and bands[-1].high == pytest.approx(0.9)


def test_report_totals_contract_amount_as_decimal() -> None:
    report = evaluate_decisions(sample())
    assert report.decided == 5 and report.accepted == 3
    assert report.acceptance_rate == pytest.approx(0.6)
    assert report.contract_amount == Decimal("102000.50") and report.contracts == 2
    assert report.precision_at_k[1] == pytest.approx(0.5)
    empty = evaluate_decisions([])
    assert (
        empty.contract_amount == Decimal("0.00") and empty.calibration == [] and empty.acceptance_rate is None
    )


def test_unknown_status_is_rejected_loudly() -> None:
    with pytest.raises(ValueError):
        evaluate_decisions([DecidedMatch(score=0.5, rank=1, status="contracted")])
