"""Scale check: build a ~20,000-document, 5,000-query set from the shared data and time a full run.

    python -m evaluation.scale --docs 20000 --queries 5000 --encoder use-m3 [--work DIR]

The shared sets hold ~10,000 real documents; each is split at a sentence boundary near its middle
into two passages (both relevant to the document's queries), which gives ~20,000 documents of real
text. Queries are a seeded sample of all shared queries. The set is written in the BEIR layout and
run through the same harness as `techmatch evaluate`, so the timings are the harness's own.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from evaluation.cache import DEFAULT_CACHE_DIR
from evaluation.datasets import load_corpus, load_dataset, load_qrels, load_queries
from evaluation.harness import HarnessConfig, run_evaluation
from evaluation.report import DEFAULT_DATA_DIR
from evaluation.results import format_table

logger = logging.getLogger(__name__)

SOURCES: tuple[tuple[str, str, str], ...] = (
    ("csl_dev_zh", "queries.jsonl", "qrels.tsv"),
    ("csl_dev_zh", "queries_keywords.jsonl", "qrels_keywords.tsv"),
    ("nasa_t2_en", "queries.jsonl", "qrels.tsv"),
    ("scifact_en", "queries.jsonl", "qrels.tsv"),
    ("scifact_en", "queries_train.jsonl", "qrels_train.tsv"),
)
_SENTENCE_END = re.compile(r"(?<=[。！？；.!?;])\s*")


def split_in_two(text: str) -> tuple[str, str]:
    """Split at the sentence boundary closest to the middle (at the middle if there is none)."""
    cuts = [m.end() for m in _SENTENCE_END.finditer(text) if 0 < m.end() < len(text)]
    middle = len(text) // 2
    cut = min(cuts, key=lambda c: abs(c - middle)) if cuts else middle
    return text[:cut].strip() or text, text[cut:].strip() or text


def _documents(data_dir: Path) -> Iterator[tuple[str, str]]:
    for name in dict.fromkeys(source for source, _, _ in SOURCES):
        if not (data_dir / name / "corpus.jsonl").is_file():
            logger.warning("scale set: %s is missing, skipped", data_dir / name)
            continue
        ids, texts = load_corpus(data_dir / name / "corpus.jsonl")
        for doc_id, text in zip(ids, texts, strict=True):
            first, second = split_in_two(text)
            yield f"{name}:{doc_id}:a", first
            yield f"{name}:{doc_id}:b", second


def _queries(data_dir: Path) -> Iterator[tuple[str, str, dict[str, int]]]:
    for name, queries_file, qrels_file in SOURCES:
        if not (data_dir / name / queries_file).is_file():
            continue
        judged = load_qrels(data_dir / name / qrels_file)
        for query_id, text in load_queries(data_dir / name / queries_file).items():
            relevant = {
                f"{name}:{d}:{p}": r for d, r in judged.get(query_id, {}).items() if r > 0 for p in "ab"
            }
            if relevant:
                yield f"{name}:{queries_file}:{query_id}", text, relevant


def build_scale_set(data_dir: Path, out: Path, n_docs: int, n_queries: int, seed: int = 0) -> Path:
    """Write the BEIR files of the scale set into ``out`` and return it."""
    rng = np.random.default_rng(seed)
    docs = list(_documents(data_dir))
    if len(docs) > n_docs:
        docs = [docs[i] for i in sorted(rng.choice(len(docs), n_docs, replace=False))]
    kept = {doc_id for doc_id, _ in docs}
    queries = [(q, t, {d: r for d, r in rel.items() if d in kept}) for q, t, rel in _queries(data_dir)]
    queries = [item for item in queries if item[2]]
    if len(queries) > n_queries:
        queries = [queries[i] for i in sorted(rng.choice(len(queries), n_queries, replace=False))]
    out.mkdir(parents=True, exist_ok=True)
    _write_jsonl(out / "corpus.jsonl", ({"id": d, "text": t} for d, t in docs))
    _write_jsonl(out / "queries.jsonl", ({"id": q, "text": t} for q, t, _ in queries))
    with (out / "qrels.tsv").open("w", encoding="utf-8") as handle:
        handle.write("query_id\tdoc_id\trelevance\n")
        handle.writelines(f"{q}\t{d}\t{r}\n" for q, _, rel in queries for d, r in rel.items())
    return out


def _write_jsonl(path: Path, rows: Iterator[dict[str, str]]) -> None:
    with path.open("w", encoding="utf-8") as handle:
        handle.writelines(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)


def main(argv: Sequence[str] | None = None) -> int:
    """Build the set, run the harness once (or twice, to time a warm embedding cache), print timings."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    parser.add_argument("--work", type=Path, default=Path("var/scale"))
    parser.add_argument("--docs", type=int, default=20_000)
    parser.add_argument("--queries", type=int, default=5_000)
    parser.add_argument("--encoder", default="use-m3", help="engine encoder (also measured alone)")
    parser.add_argument("--cache-dir", type=Path, default=DEFAULT_CACHE_DIR)
    parser.add_argument("--runs", type=int, default=1, help="2 to time a second, cached run")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    dataset = load_dataset(build_scale_set(args.data_dir, args.work, args.docs, args.queries))
    logger.info("scale set: %d queries, %d documents", len(dataset.queries), dataset.n_documents)
    config = HarnessConfig(
        engine_encoder=args.encoder, dense_baselines=(args.encoder,), cache_dir=args.cache_dir
    )
    for attempt in range(1, args.runs + 1):
        started, cpu_started = time.perf_counter(), time.process_time()
        summary = run_evaluation(dataset, config).summary()
        total, cpu = time.perf_counter() - started, time.process_time() - cpu_started
        sys.stdout.write(format_table(summary) + "\n")
        sys.stdout.write(
            f"run {attempt}: {total:.0f}s wall, {cpu:.0f}s CPU (all threads; the machine may be shared), "
            f"load average {os.getloadavg()[0]:.1f}; timings {json.dumps(summary['timings'])}\n"
        )
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
