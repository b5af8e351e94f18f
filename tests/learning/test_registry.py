"""Promotion by measurement: the registry refuses a model that is not better on the held-back split."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from evaluation.datasets import load_dataset
from learning.compare import DENSE, FUSED, ComparisonRow, compare_encoders
from learning.registry import ModelRegistry, RegistryError, promotion_verdict
from learning.splits import held_back_subset

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data"


def _row(label: str, delta: float, half_width: float = 0.01, system: str = FUSED) -> ComparisonRow:
    return ComparisonRow(
        set_label=label,
        system=system,
        queries=100,
        base=0.8,
        base_ci=(0.78, 0.82),
        candidate=0.8 + delta,
        candidate_ci=(0.78 + delta, 0.82 + delta),
        delta=delta,
        delta_ci=(delta - half_width, delta + half_width),
    )


def test_verdict_needs_a_held_back_gain_and_no_significant_loss() -> None:
    good = [
        _row("csl held back", 0.02),
        _row("nasa (never seen)", -0.001),
        _row("nasa (never seen)", -0.2, system=DENSE),
    ]
    assert promotion_verdict(good).promote
    worse_held = [_row("csl held back", -0.01), _row("nasa (never seen)", 0.01)]
    verdict = promotion_verdict(worse_held)
    assert not verdict.promote and "留出集" in verdict.reasons[0]
    loses_elsewhere = [_row("csl held back", 0.03), _row("nasa (never seen)", -0.05)]
    verdict = promotion_verdict(loses_elsewhere)
    assert not verdict.promote and "nasa" in verdict.reasons[0]
    assert not promotion_verdict([_row("csl held back", 0.03)]).promote  # no shared-set evidence


def test_promote_rollback_and_refusals(tmp_path: Path) -> None:
    registry = ModelRegistry(tmp_path / "registry")
    registry.register(
        "good",
        "encoder",
        tmp_path / "m1",
        base="e5-small-st",
        evaluation=[_row("csl held back", 0.02), _row("nasa", 0.0)],
        info={},
    )
    registry.register(
        "worse",
        "encoder",
        tmp_path / "m2",
        base="e5-small-st",
        evaluation=[_row("csl held back", -0.02), _row("nasa", 0.0)],
        info={},
    )
    with pytest.raises(RegistryError):
        registry.register("good", "encoder", tmp_path / "m3", base="e5-small-st", evaluation=[], info={})
    assert registry.resolve_encoder("default") == "e5-small-st"

    refused = registry.promote("worse")
    assert not refused.promote and registry.current("encoder") is None
    assert registry.promote("good").promote
    assert registry.current("encoder") == "good"
    assert registry.resolve_encoder("default") == f"st:{(tmp_path / 'm1').resolve()}"
    with pytest.raises(RegistryError, match="请先对当前默认重新评测"):
        registry.promote("worse")  # measured against the base, not against "good"
    assert registry.rollback("encoder") == "e5-small-st"
    with pytest.raises(RegistryError):
        registry.rollback("encoder")
    assert json.loads((tmp_path / "registry" / "registry.json").read_text())["versions"]["worse"][
        "evaluation"
    ]


def test_promotion_refuses_a_model_measured_worse_on_the_held_back_split(tmp_path: Path) -> None:
    """On real text: a measured comparison on the held-back split of csl_dev_zh (its first 120 papers)
    in which the candidate ranks worse than the default (BM25 alone against the hashing encoder alone
    plays "default" and "candidate" here, both cheap) is refused, whatever the other sets say."""
    if not (SHARED / "csl_dev_zh").is_dir():
        pytest.skip("shared data not present")
    small = tmp_path / "csl120"
    small.mkdir()
    for name in ("queries.jsonl", "corpus.jsonl"):
        lines = (SHARED / "csl_dev_zh" / name).read_text(encoding="utf-8").splitlines()[:120]
        (small / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
    qrels = (SHARED / "csl_dev_zh" / "qrels.tsv").read_text(encoding="utf-8").splitlines()[:121]
    (small / "qrels.tsv").write_text("\n".join(qrels) + "\n", encoding="utf-8")
    held = held_back_subset(load_dataset(small), "csl_dev_zh")
    assert 10 <= len(held.queries) <= 45
    rows = compare_encoders("csl120 held back", held, "hashing", "hashing", cache_dir=None, workers=1)
    assert [r.system for r in rows] == [DENSE, FUSED] and all(r.delta == 0 for r in rows)
    worse = [replace(r, candidate=r.base - 0.05, delta=-0.05, delta_ci=(-0.08, -0.02)) for r in rows]
    registry = ModelRegistry(tmp_path / "registry")
    for name, measured in (("equal", rows), ("worse", worse)):
        registry.register(
            name,
            "encoder",
            tmp_path,
            base="e5-small-st",
            evaluation=[*measured, _row("nasa (never seen)", 0.01)],
            info={},
        )
        verdict = registry.promote(name)
        assert not verdict.promote and "留出集" in verdict.reasons[0]
    assert registry.current("encoder") is None


def test_the_service_follows_the_registry(tmp_path: Path) -> None:
    from matcher.encoders import EncoderError
    from services.index import resolve_registered

    registry = ModelRegistry(tmp_path / "registry")
    assert resolve_registered("model:default", tmp_path) == "e5-small-st"
    assert resolve_registered("hashing", tmp_path) == "hashing"
    registry.register(
        "v1",
        "encoder",
        tmp_path / "m1",
        base="e5-small-st",
        evaluation=[_row("csl held back", 0.02), _row("nasa", 0.0)],
        info={},
    )
    assert registry.promote("v1").promote
    assert resolve_registered("model:default", tmp_path) == f"st:{(tmp_path / 'm1').resolve()}"
    with pytest.raises(EncoderError, match="未登记"):
        resolve_registered("model:nope", tmp_path)
