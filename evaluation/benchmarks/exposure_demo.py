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
import logging
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

from evaluation.metrics import bootstrap_ci, ndcg_at_k, paired_bootstrap
from learning.demo_run import demo_run
from learning.exposure import FairnessCaps
from matcher.config import DEFAULT_ENCODER
from matcher.postings import Side
from services import exposure

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


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--encoder", default=DEFAULT_ENCODER)
    parser.add_argument("--cache-dir", type=Path, default=Path.home() / ".cache" / "techmatch")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument(
        "--ranker-out",
        type=Path,
        default=None,
        help="also run the re-ranker's time split on the same demo run",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    k = 10
    with demo_run(args.encoder, args.cache_dir, exposure.CANDIDATE_FACTOR * k) as run:
        ranked, gold = run.candidates, run.gold
        owners = run.index.owners(Side.ACHIEVEMENT)
        encoder_name = run.index.encoder_name
        results = {}
        for setting in SETTINGS:
            fair = setting is not None
            lists, figures = exposure.select_lists(
                ranked, owners, k, fair=fair, caps=setting or exposure.CAPS
            )
            scores = np.array(
                [
                    ndcg_at_k([str(s.id) for s in lists[q]], {str(d): r for d, r in gold[q].items()}, k)
                    for q in sorted(gold)
                    if q in lists
                ]
            )
            results[setting] = (scores, figures["stored" if fair else "engine_order"])
        if args.ranker_out is not None:  # the same ranked demo serves both measurements (one indexing)
            from evaluation.benchmarks.ranker_demo import DEPTH, report

            top = {q: found[:DEPTH] for q, found in ranked.items()}
            args.ranker_out.write_text(report(replace(run, candidates=top), encoder_name), encoding="utf-8")
    rng = np.random.default_rng(0)
    before = results[None][0]
    lines = [
        f"Demo matching run: {len(ranked)} open needs, top {k} of {exposure.CANDIDATE_FACTOR * k} candidates, "
        f"encoder `{encoder_name}`; nDCG@10 over the {len(before)} needs with gold pairs, 95% bootstrap "
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
