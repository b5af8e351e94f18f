"""Solver recommendation quality on the demo corpus: for each need with gold achievements, rank
organisations as `services.solvers` does for a 揭榜挂帅 call over that need, and measure whether the
organisations holding the gold achievements come first.

Rankings compared on the same candidates (the engine's top `CANDIDATES` achievements, through the
service's own `candidate_hits`): the baseline ranks organisations by their single best achievement;
``aggregate`` is the service's aggregation without and with the past-contract bonus. Needs that a demo
contract already pairs with one of their gold achievements are left out (the contract would leak the
answer into the bonus). Metrics: Recall@5 and MRR@10 over organisations, relevance = holds an
achievement judged 1 (helps) or 2 (solves); a 95% paired bootstrap interval for aggregate − baseline.

Usage: ``python -m evaluation.call_solvers [--encoder e5-small-st] [--out evaluation/results/call_solvers.md]``
(builds a throw-away SQLite database with the demo corpus in a temporary directory).
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from sqlmodel import Session, select

from data.db import create_db_engine
from data.demo import read_demo
from data.migrate import upgrade
from evaluation.metrics import mrr_at_k, paired_bootstrap, recall_at_k
from matcher.config import EngineConfig
from matcher.encoders import EncoderConfig, create_encoder
from models import Achievement, Need
from services.demo import load_demo
from services.index import IndexService
from services.solvers import (
    Hit,
    OrgScore,
    aggregate_scores,
    best_single,
    candidate_hits,
    past_contracts_in_field,
)

Ranker = Callable[[Sequence[Hit], dict[int, int]], list[OrgScore]]
SYSTEMS: dict[str, Ranker] = {
    "baseline: best single achievement": lambda hits, past: best_single(hits),
    "aggregate (top-3, decayed)": lambda hits, past: aggregate_scores(hits),
    "aggregate + past contracts (service)": aggregate_scores,
}


def _cpu() -> str:
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    return f"{model}; {os.cpu_count()} CPUs; load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}"


def evaluate(encoder: str) -> tuple[dict[str, dict[str, np.ndarray]], int, float]:
    """Per-query Recall@5 and MRR of every system, the number of queries, and seconds taken."""
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        db = create_db_engine(f"sqlite:///{tmp}/eval.db")
        upgrade(db)
        load_demo(db)
        enc = create_encoder(EncoderConfig(name=encoder))
        index = IndexService(enc, EngineConfig.for_encoder(enc.name, index_backend="faiss-flat"), None)
        index.rebuild(db)
        gold: dict[str, dict[str, int]] = {}
        for pair in read_demo("gold_pairs"):
            gold.setdefault(pair["need_external_id"], {})[pair["achievement_external_id"]] = pair["relevance"]
        contracted = {(c["need_external_id"], c["achievement_external_id"]) for c in read_demo("contracts")}
        results: dict[str, dict[str, list[float]]] = {
            name: {"recall@5": [], "mrr@10": []} for name in SYSTEMS
        }
        with Session(db) as session:
            achievements = {a.external_id: a for a in session.exec(select(Achievement)).all()}
            needs = {n.external_id: n for n in session.exec(select(Need)).all()}
            for need_ext, judged in sorted(gold.items()):
                if any((need_ext, a) in contracted for a in judged):
                    continue
                need = needs[need_ext]
                relevant = {str(achievements[a].org_id): rel for a, rel in judged.items() if rel > 0}
                relevant.pop(str(need.org_id), None)
                if not relevant:
                    continue
                hits, _, _ = candidate_hits(session, index, need)
                past = past_contracts_in_field(session, need.field_code, as_seller=True)
                for name, rank in SYSTEMS.items():
                    ranked = [str(o.org_id) for o in rank(hits, past)]
                    results[name]["recall@5"].append(recall_at_k(ranked, relevant, 5))
                    results[name]["mrr@10"].append(mrr_at_k(ranked, relevant, 10))
        db.dispose()
    arrays = {n: {m: np.array(v) for m, v in r.items()} for n, r in results.items()}
    return arrays, len(next(iter(results.values()))["mrr@10"]), time.perf_counter() - started


def report(encoder: str) -> str:
    arrays, n, seconds = evaluate(encoder)
    baseline = arrays["baseline: best single achievement"]
    rng = np.random.default_rng(0)
    lines = [
        f"Solver recommendation on the demo corpus ({n} needs with gold achievements held by another "
        f"organisation; encoder {encoder}; {seconds:.0f} s on {_cpu()})",
        "",
        "| ranking | Recall@5 | MRR@10 | Δ Recall@5 vs baseline [95% CI] | Δ MRR vs baseline [95% CI] |",
        "|---|---:|---:|---|---|",
    ]
    for name, values in arrays.items():
        deltas = []
        for metric in ("recall@5", "mrr@10"):
            d = paired_bootstrap(values[metric], baseline[metric], rng=rng)
            deltas.append(f"{d.mean:+.3f} [{d.low:+.3f}, {d.high:+.3f}]")
        lines.append(
            f"| {name} | {values['recall@5'].mean():.3f} | {values['mrr@10'].mean():.3f} | {deltas[0]} | {deltas[1]} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--encoder", default="e5-small-st")
    parser.add_argument("--out", type=Path, default=None, help="also write the table to this file")
    args = parser.parse_args(argv)
    text = report(args.encoder)
    sys.stdout.write(text)
    if args.out:
        args.out.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
