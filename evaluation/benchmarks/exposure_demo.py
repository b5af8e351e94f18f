"""Exposure of institutions in a demo matching run, before and after the capped re-ranking, and its cost.

    flock /tmp/tm-bench.lock python -m evaluation.benchmarks.exposure_demo [--encoder e5-small-st]
        [--out evaluation/results/exposure_demo.md]

Loads the demo into a throw-away SQLite database, indexes it with the service's `IndexService`, ranks
every open need's top 30 achievements exactly as `services.matching` does, and stores nothing: the
engine-order top 10 and the capped top 10 (`services.exposure.CAPS`) are scored against the demo's
gold pairs (nDCG@10, 95% bootstrap intervals, paired difference) and measured for exposure.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from sqlmodel import Session, col, select

from data.db import create_db_engine
from data.migrate import upgrade
from evaluation.metrics import bootstrap_ci, ndcg_at_k, paired_bootstrap
from learning.exposure import FairnessCaps
from matcher.config import DEFAULT_ENCODER, EngineConfig
from matcher.encoders import EncoderConfig, create_encoder
from matcher.engine import Suggestion
from matcher.filters import PostingFilter
from matcher.postings import Side
from models import Achievement, Need
from services import exposure
from services.demo import load_demo
from services.index import INDEXED_STATUSES, IndexService, to_posting

REPO = Path(__file__).resolve().parents[2]
GOLD = REPO / "data" / "demo" / "gold_pairs.jsonl"
DEFAULT_OUT = REPO / "evaluation" / "results" / "exposure_demo.md"


SETTINGS: tuple[FairnessCaps | None, ...] = (
    None,
    FairnessCaps(10, 2, 0.05),
    FairnessCaps(10, 3, 0.05),
    FairnessCaps(10, 3, 0.10),
    FairnessCaps(10, 5, 0.10),
    FairnessCaps(10, 5, None),
)
"""The engine order, then cap settings from strict to loose (`services.exposure.CAPS` is one of them)."""


def _label(caps: FairnessCaps) -> str:
    run = "no run cap" if caps.run_share is None else f"≤ {caps.run_share:.0%} of the run"
    return f"capped: ≤ {caps.per_query_cap} per list, {run}"


def _ranked(index: IndexService, needs: Sequence[Need], depth: int) -> dict[int, list[Suggestion]]:
    statuses = frozenset(s.value for s in INDEXED_STATUSES)
    return {
        n.id or 0: index.suggest(n, depth, PostingFilter.for_counterparts(to_posting(n), statuses=statuses))
        for n in needs
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--encoder", default=DEFAULT_ENCODER)
    parser.add_argument("--cache-dir", type=Path, default=Path.home() / ".cache" / "techmatch")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    with tempfile.TemporaryDirectory() as tmp:
        db = create_db_engine(f"sqlite:///{tmp}/demo.db")
        upgrade(db)
        load_demo(db)
        encoder = create_encoder(EncoderConfig(name=args.encoder, threads=2, cache_dir=args.cache_dir))
        index = IndexService(encoder, EngineConfig.for_encoder_of(encoder), None)
        index.start(db)
        with Session(db) as session:
            needs = list(session.exec(select(Need).where(col(Need.status).in_(INDEXED_STATUSES))).all())
            need_ids = {n.external_id: n.id for n in needs}
            ach_ids = {a.external_id: a.id for a in session.exec(select(Achievement)).all()}
        gold: dict[int, dict[int, int]] = {}
        for line in GOLD.read_text(encoding="utf-8").splitlines():
            pair = json.loads(line)
            need, ach = need_ids.get(pair["need_external_id"]), ach_ids.get(pair["achievement_external_id"])
            if need is not None and ach is not None:
                gold.setdefault(need, {})[ach] = int(pair["relevance"])
        k = 10
        ranked = _ranked(index, needs, exposure.CANDIDATE_FACTOR * k)
        owners = index.owners(Side.ACHIEVEMENT)
        results = {}
        for setting in SETTINGS:
            fair = setting is not None
            caps = setting or exposure.CAPS
            lists, figures = exposure.select_lists(ranked, owners, k, fair=fair, caps=caps)
            scores = np.array(
                [
                    ndcg_at_k([str(s.id) for s in lists[q]], {str(d): r for d, r in gold[q].items()}, k)
                    for q in sorted(gold)
                    if q in lists
                ]
            )
            results[setting] = (scores, figures["stored" if fair else "engine_order"])
    rng = np.random.default_rng(0)
    before = results[None][0]
    lines = [
        f"Demo matching run: {len(ranked)} open needs, top {k} of {exposure.CANDIDATE_FACTOR * k} candidates, "
        f"encoder `{encoder.name}`; nDCG@10 over the {len(before)} needs with gold pairs, 95% bootstrap "
        "intervals; Δ is paired against the engine order. Caps: places per organisation in one list / "
        "share of the run's places per organisation.",
        "",
        "| run | nDCG@10 (95% CI) | Δ nDCG@10 (95% CI), relative | institutions in any top-10 | exposure Gini "
        "| small institutions: exposure / relevance share (ratio) |",
        "|---|---|---|---|---|---|",
    ]
    for setting in SETTINGS:
        scores, rep = results[setting]
        low, high = bootstrap_ci(scores, rng=rng)
        diff = paired_bootstrap(scores, before, rng=rng)
        label = "engine order (before)" if setting is None else _label(setting)
        lines.append(
            f"| {label} | {scores.mean():.4f} [{low:.3f}, {high:.3f}] | {diff.mean:+.4f} [{diff.low:+.3f}, "
            f"{diff.high:+.3f}], {diff.mean / before.mean() if before.mean() else 0:+.1%} "
            f"| {rep['share_in_any_top_k']:.1%} of {rep['organisations']} | {rep['gini']:.3f} "
            f"| {rep['small_exposure_share']:.3f} / {rep['small_relevance_share']:.3f} ({rep['small_exposure_ratio']:.2f}) |"
        )
    text = "\n".join(lines) + "\n"
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
