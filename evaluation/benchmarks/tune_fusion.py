"""Tune hybrid fusion per encoder on the BEIR-layout sets in ../shared/data, then measure the default.

Usage (from the repository root)::

    python -m evaluation.benchmarks.tune_fusion --encoders use-m3,e5-small --cache /tmp/emb

Steps: embed every corpus and query file once (cached as .npy under --cache, keyed by encoder, set and
file); compute dense and BM25 top-100 lists per query; grid-search the fusion method and weights with
matcher.fusion; pick, per encoder, the configuration with the best mean nDCG@10 among those that are
>= BM25 on every set; finally run the REAL engine (MatchEngine.search_text, default config for that
encoder) and print the table. Set --max-docs to subsample for a quick run. Output is a Markdown table.

This is a tuning script, not the evaluation harness (that lives elsewhere in evaluation/). The table
it produced, and the defaults chosen from it, are in matcher/config.py. For scifact with e5-small the
run used ``--sets scifact --max-docs 1000``.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from matcher.config import EngineConfig
from matcher.encoders import Encoder, EncoderConfig, create_encoder
from matcher.engine import MatchEngine
from matcher.fusion import reciprocal_rank_fusion, weighted_score_fusion
from matcher.lexical import BM25Index
from matcher.postings import Posting, Side

DATA = Path(__file__).resolve().parents[3] / "shared" / "data"
SETS: list[tuple[str, str, str, str]] = [  # label, directory, queries file, qrels file
    ("csl-title", "csl_dev_zh", "queries.jsonl", "qrels.tsv"),
    ("csl-keywords", "csl_dev_zh", "queries_keywords.jsonl", "qrels_keywords.tsv"),
    ("csl-lowoverlap", "csl_dev_zh", "queries_lowoverlap.jsonl", "qrels_lowoverlap.tsv"),
    ("nasa", "nasa_t2_en", "queries.jsonl", "qrels.tsv"),
    ("scifact", "scifact_en", "queries.jsonl", "qrels.tsv"),
]
DEPTH = 100
Ranking = list[tuple[int, float]]


@dataclass
class QueryLists:
    """Dense and BM25 top-DEPTH of one query, plus full score tables to fill gaps like the engine."""

    dense: Ranking
    lexical: Ranking
    dense_all: np.ndarray
    lexical_all: dict[int, float]


@dataclass
class EvalSet:
    """One query set over one corpus."""

    label: str
    directory: str
    query_file: str
    doc_ids: list[str]
    postings: list[Posting]
    queries: list[tuple[str, str]]
    qrels: dict[str, dict[str, int]]


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def subset_order(doc_ids: list[str], judged: set[str], max_docs: int) -> list[int]:
    """All judged documents (corpus order) then a seeded shuffle of the rest, cut at ``max_docs``."""
    first = [i for i, d in enumerate(doc_ids) if d in judged]
    chosen = set(first)
    rest = [i for i in range(len(doc_ids)) if i not in chosen]
    np.random.default_rng(0).shuffle(rest)
    return (first + rest)[:max_docs]


def load_set(label: str, directory: str, query_file: str, qrels_file: str, max_docs: int = 0) -> EvalSet:
    """Read corpus, queries and qrels; documents become achievement postings.

    With ``max_docs`` the corpus is cut to the judged documents plus random others (a cheaper, easier
    variant for slow encoders; every method in a table is measured on the same subset).
    """
    docs = read_jsonl(DATA / directory / "corpus.jsonl")
    qrels: dict[str, dict[str, int]] = {}
    for line in (DATA / directory / qrels_file).read_text(encoding="utf-8").splitlines()[1:]:
        qid, did, rel = line.split("\t")
        qrels.setdefault(qid, {})[did] = int(rel)
    if max_docs and len(docs) > max_docs:
        judged = {d for gains in qrels.values() for d in gains}
        docs = [docs[i] for i in subset_order([d["id"] for d in docs], judged, max_docs)]
        directory_key = f"{directory}__sub{max_docs}"
    else:
        directory_key = directory
    queries = [(q["id"], q["text"]) for q in read_jsonl(DATA / directory / query_file)]
    postings = [
        Posting(id=i, side=Side.ACHIEVEMENT, title=d.get("title", "") or "", body=d["text"])
        for i, d in enumerate(docs)
    ]
    return EvalSet(label, directory_key, query_file, [d["id"] for d in docs], postings, queries, qrels)


def ndcg_at_10(ranked: Sequence[str], gains: dict[str, int]) -> float:
    """Binary/graded nDCG@10 with linear gains."""
    dcg = sum(gains.get(d, 0) / math.log2(i + 2) for i, d in enumerate(ranked[:10]))
    ideal = sorted(gains.values(), reverse=True)[:10]
    idcg = sum(g / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / idcg if idcg else 0.0


def cached(cache: Path, key: str, compute: Callable[[], np.ndarray]) -> np.ndarray:
    path = cache / f"{key}.npy"
    if path.exists():
        loaded: np.ndarray = np.load(path)
        return loaded
    started = time.time()
    value = compute()
    np.save(path, value)
    print(f"  embedded {key} in {time.time() - started:.0f}s", flush=True)
    return value


def embeddings(encoder: Encoder, cache: Path, es: EvalSet, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    doc_key = f"{encoder.name}__{es.directory}__corpus"
    query_key = f"{encoder.name}__{es.directory.split('__')[0]}__{es.query_file}"
    docs = cached(cache, doc_key, lambda: encoder.encode_documents(texts))
    queries = cached(cache, query_key, lambda: encoder.encode_queries([t for _, t in es.queries]))
    return docs, queries


def base_rankings(es: EvalSet, docs: np.ndarray, queries: np.ndarray, texts: list[str]) -> list[QueryLists]:
    """Dense and BM25 top-DEPTH per query."""
    bm25 = BM25Index()
    bm25.upsert_many(enumerate(texts))
    out = []
    for row, (_, text) in enumerate(es.queries):
        scores = docs @ queries[row]
        top = np.argsort(-scores)[:DEPTH]
        dense = [(int(i), float(scores[i])) for i in top]
        lexical = [(h.id, h.score) for h in bm25.search(text, DEPTH)]
        ids, lex_scores = bm25.scores(text)
        out.append(
            QueryLists(dense, lexical, scores, dict(zip(ids.tolist(), lex_scores.tolist(), strict=True)))
        )
    return out


def evaluate(es: EvalSet, ranked_ids: list[list[int]]) -> float:
    values = [
        ndcg_at_10([es.doc_ids[i] for i in ids], es.qrels[qid])
        for (qid, _), ids in zip(es.queries, ranked_ids, strict=True)
        if qid in es.qrels
    ]
    return float(np.mean(values)) if values else float("nan")


def grid() -> list[EngineConfig]:
    configs = [
        EngineConfig(fusion="rrf", dense_weight=w, lexical_weight=1.0)
        for w in (0.1, 0.2, 0.3, 0.5, 0.7, 1.0, 1.5, 2.0, 3.0)
    ]
    configs += [
        EngineConfig(fusion="weighted", normalization=n, dense_weight=w, lexical_weight=round(1 - w, 2))
        for n in ("minmax", "zscore")
        for w in (0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7, 0.8)
    ]
    return configs


def fuse(cfg: EngineConfig, q: QueryLists) -> list[int]:
    """The engine's fusion on precomputed lists (weighted: gaps filled with exact scores, as the engine does)."""
    weights = {"dense": cfg.dense_weight, "lexical": cfg.lexical_weight}
    if cfg.fusion == "rrf":
        hits = reciprocal_rank_fusion({"dense": q.dense, "lexical": q.lexical}, k=cfg.rrf_k, weights=weights)
    else:
        dense_ids, lexical_ids = {i for i, _ in q.dense}, {i for i, _ in q.lexical}
        dense = q.dense + [(i, float(q.dense_all[i])) for i in lexical_ids - dense_ids]
        lexical = q.lexical + [(i, q.lexical_all.get(i, 0.0)) for i in dense_ids - lexical_ids]
        hits = weighted_score_fusion(
            {"dense": dense, "lexical": lexical}, weights, normalization=cfg.normalization
        )
    return [h.id for h in hits[:10]]


def label_of(cfg: EngineConfig) -> str:
    if cfg.fusion == "rrf":
        return f"rrf d={cfg.dense_weight:g}"
    return f"{cfg.normalization} d={cfg.dense_weight:g}"


def engine_ndcg(
    encoder: Encoder, cfg: EngineConfig, es: EvalSet, docs: np.ndarray, queries: np.ndarray
) -> float:
    """nDCG@10 of the real engine (search_text) with the given configuration."""
    engine = MatchEngine(encoder, cfg)
    engine.upsert(es.postings, vectors=docs)
    ranked = [
        [
            s.id
            for s in engine.search_text(
                Side.ACHIEVEMENT, text, 10, query_vector=queries[row : row + 1], explain=False
            )
        ]
        for row, (_, text) in enumerate(es.queries)
    ]
    return evaluate(es, ranked)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--encoders", default="use-m3")
    parser.add_argument("--cache", type=Path, default=Path("/tmp/techmatch-emb"))
    parser.add_argument("--sets", default=",".join(s[0] for s in SETS))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--max-docs", type=int, default=0, help="cut corpora to judged docs + random others")
    args = parser.parse_args()
    args.cache.mkdir(parents=True, exist_ok=True)
    chosen_sets = [s for s in SETS if s[0] in args.sets.split(",")]
    evalsets = [load_set(*s, max_docs=args.max_docs) for s in chosen_sets]
    for encoder_name in args.encoders.split(","):
        encoder = create_encoder(EncoderConfig(name=encoder_name, threads=args.threads, batch_size=16))
        tune_encoder(encoder, evalsets, args.cache)


def tune_encoder(encoder: Encoder, evalsets: list[EvalSet], cache: Path) -> None:
    results: dict[str, dict[str, float]] = {}
    data = {}
    for es in evalsets:
        texts = [MatchEngine(encoder, EngineConfig(index_backend="numpy")).text_of(p) for p in es.postings]
        docs, queries = embeddings(encoder, cache, es, texts)
        data[es.label] = (docs, queries)
        lists = base_rankings(es, docs, queries, texts)
        results.setdefault("bm25", {})[es.label] = evaluate(
            es, [[i for i, _ in q.lexical[:10]] for q in lists]
        )
        results.setdefault("dense", {})[es.label] = evaluate(
            es, [[i for i, _ in q.dense[:10]] for q in lists]
        )
        for cfg in grid():
            results.setdefault(label_of(cfg), {})[es.label] = evaluate(es, [fuse(cfg, q) for q in lists])
    print_table(encoder.name, results, [es.label for es in evalsets])
    eligible = [
        name
        for name in results
        if name not in ("bm25", "dense")
        and all(results[name][s] >= results["bm25"][s] - 1e-9 for s in results[name])
    ]
    best = max(eligible or list(results), key=lambda n: np.mean(list(results[n].values())))
    print(f"\nbest for {encoder.name} (>= BM25 everywhere: {bool(eligible)}): {best}")
    default = EngineConfig.for_encoder(encoder.name)
    row = {es.label: engine_ndcg(encoder, default, es, *data[es.label]) for es in evalsets}
    print(
        f"engine default for {encoder.name} ({label_of(default)}): "
        + ", ".join(f"{k} {v:.4f}" for k, v in row.items())
    )
    for es in evalsets:  # lexical-only engine as a sanity check against the BM25 column
        if es.label == "csl-lowoverlap":
            lex = engine_ndcg(
                encoder, replace(default, dense_weight=0.0, lexical_weight=1.0), es, *data[es.label]
            )
            print(f"engine lexical-only on {es.label}: {lex:.4f}")


def print_table(encoder_name: str, results: dict[str, dict[str, float]], labels: list[str]) -> None:
    print(f"\n### {encoder_name}: nDCG@10\n")
    print("| method | " + " | ".join(labels) + " | mean |")
    print("|---|" + "---|" * (len(labels) + 1))
    for name, row in results.items():
        values = [row[label] for label in labels]
        print(f"| {name} | " + " | ".join(f"{v:.4f}" for v in values) + f" | {np.mean(values):.4f} |")


if __name__ == "__main__":
    main()
