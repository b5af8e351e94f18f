"""The learned re-ranker on the demo's (simulated) decision log, split by time, against the fused order.

    flock /tmp/tm-bench.lock python -m evaluation.benchmarks.ranker_demo [--encoder e5-small-st]
        [--out evaluation/results/ranker_demo.md]

Train on the decisions about the older 70% of the needs (in posting order), test on the newer 30%:
nDCG@10 of the fused top 20 re-ordered by the ranker against the fused order, 95% bootstrap intervals.
The decision log is `learning.demo_run.simulated_decisions` (a rule-following broker over gold pairs).
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from learning.demo_run import DemoRun, demo_run, simulated_decisions
from learning.ranker import time_split_evaluation
from matcher.config import DEFAULT_ENCODER

DEFAULT_OUT = Path(__file__).resolve().parents[1] / "results" / "ranker_demo.md"
DEPTH = 20


def report(run: DemoRun, encoder: str) -> str:
    """Simulate the decisions, run the time split, render the markdown."""
    decisions = simulated_decisions(run)
    result = time_split_evaluation(run.needs, run.candidates, decisions, run.achievements, run.need_postings)
    positives = sum(1 for d in decisions if d.label > 0)
    return (
        f"Demo decision log (simulated broker, {len(decisions)} decisions on the fused top {DEPTH} of "
        f"{len(run.needs)} needs, {positives} accepted), encoder `{encoder}`. Time split: train on "
        f"{result.train_decisions} decisions about the older {result.train_needs} needs, test on the newer "
        f"{result.test_needs} needs with an accepted candidate ({result.test_decisions} decisions).\n\n"
        "| order of the fused top 20 | nDCG@10 (95% CI) |\n|---|---|\n"
        f"| fused (engine default) | {result.fused:.4f} [{result.fused_ci[0]:.3f}, {result.fused_ci[1]:.3f}] |\n"
        f"| learned re-ranker | {result.learned:.4f} [{result.learned_ci[0]:.3f}, {result.learned_ci[1]:.3f}] |\n\n"
        f"Δ (learned - fused) = {result.delta:+.4f} [{result.delta_ci[0]:+.4f}, {result.delta_ci[1]:+.4f}]. "
        f"Standardised coefficients: {result.coefficients}.\n"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--encoder", default=DEFAULT_ENCODER)
    parser.add_argument("--cache-dir", type=Path, default=Path.home() / ".cache" / "techmatch")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    with demo_run(args.encoder, args.cache_dir, DEPTH) as run:
        text = report(run, run.index.encoder_name)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
