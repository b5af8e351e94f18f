"""The engine's default (hybrid) on the Milvus backend against the FAISS path, on every shared set.

    python evaluation/benchmarks/milvus_quality.py [--data-dir ../shared/data] [--encoder e5-small-st]
        [--slices "csl_dev_zh titles" ...] [--limit-queries N]

Both systems are the service's MatchEngine with the same encoder and configuration except the index
backend; vectors come from the shared embedding cache (~/.cache/techmatch/embeddings). Prints
nDCG@10 of each and the difference (the goal: |Δ| ≤ 0.005 on every set). The lexical half is the
engine's own BM25 over CJK character n-grams in both cases (see README: what runs in Milvus).
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from pathlib import Path

from evaluation.datasets import load_dataset
from evaluation.harness import HarnessConfig, Ranker, SystemSpec
from evaluation.metrics import evaluate_rankings
from evaluation.report import SLICES
from matcher.index.milvus_index import configure
from matcher.postings import Side

NDCG = "nDCG@10"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data-dir", type=Path, default=Path(__file__).resolve().parents[3] / "shared" / "data"
    )
    parser.add_argument("--encoder", default="e5-small-st")
    parser.add_argument("--slices", nargs="*", default=[s.label for s in SLICES])
    parser.add_argument("--limit-queries", type=int, default=None, help="first N queries of each set")
    args = parser.parse_args()
    configure(str(Path(tempfile.mkdtemp(prefix="tm-milvus-quality-")) / "milvus.db"))
    print(
        f"# Milvus Lite vs FAISS, encoder {args.encoder}; {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}"
    )
    print("| set | queries | FAISS nDCG@10 | Milvus nDCG@10 | Δ | FAISS s | Milvus s |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    worst = 0.0
    for item in SLICES:
        if item.label not in args.slices or not (args.data_dir / item.directory / item.queries).is_file():
            continue
        dataset = load_dataset(
            args.data_dir / item.directory,
            queries=item.queries,
            qrels=item.qrels,
            include_title=item.include_title,
        )
        ranker = Ranker(dataset.doc_texts, HarnessConfig(engine_encoder=args.encoder))
        # vectors of the whole query set (the cached ones), then the first N queries ranked
        all_vectors = ranker.vectors(ranker.encoder(args.encoder), list(dataset.queries.values()), "query")
        queries = list(dataset.queries.items())[: args.limit_queries]
        scores, seconds = {}, {}
        for backend in ("faiss-flat", "milvus"):
            started = time.perf_counter()
            engine = ranker.build_engine(SystemSpec(backend, args.encoder, {"index_backend": backend}))
            rankings = {
                qid: [
                    dataset.doc_ids[hit.id]
                    for hit in engine.search_text(
                        Side.ACHIEVEMENT, text, k=10, query_vector=all_vectors[row : row + 1], explain=False
                    )
                ]
                for row, (qid, text) in enumerate(queries)
            }
            seconds[backend] = time.perf_counter() - started
            scores[backend] = evaluate_rankings(rankings, dataset.qrels, [q for q, _ in queries]).mean()[NDCG]
        delta = scores["milvus"] - scores["faiss-flat"]
        worst = max(worst, abs(delta))
        print(
            f"| {item.label} | {len(queries)} | {scores['faiss-flat']:.4f} | {scores['milvus']:.4f} | "
            f"{delta:+.4f} | {seconds['faiss-flat']:.1f} | {seconds['milvus']:.1f} |",
            flush=True,
        )
    print(f"\nlargest |Δ nDCG@10| = {worst:.4f} ({'within' if worst <= 0.005 else 'OUTSIDE'} 0.005)")


if __name__ == "__main__":
    main()
