"""Scale benchmark: ingest throughput and match latency at 10⁴ and 10⁵ postings, per bundled encoder.

    python evaluation/benchmarks/bench_scale.py            # the README figures (about an hour)
    python evaluation/benchmarks/bench_scale.py --quick    # 2,000 postings, hashing + use-m3, prints only

Postings are the demo generator's (`data.demo.generate.build_corpus`) over successive seeds: real-shaped
Chinese needs and achievements (~150 characters, field, region, money, maturity, modes), 40% needs,
owned round-robin by the demo organisations. Each encoder runs in a fresh process on a fresh database
(PostgreSQL schema by default; `--database-url sqlite:///...` for the embedded default).

Ingest is end to end through the service: JSONL files of up to 1,000 rows per organisation go through
`services.imports.import_postings` (validation, database rows, audit, embedding cache, near-duplicate
search, FAISS + BM25 update). Match is `services.suggestions.suggest_for` (row read, natural filters,
hybrid ranking, explanations, counterpart rows), one posting at a time, no HTTP.

Baselines, measured in the same process on the same texts: raw encoder (`encode_documents` in the
import's chunks; `encode_queries` of one text), raw FAISS (`IndexFlatIP.add` of the same vectors;
one-query `search` with k=10 over the other side) and, for the lexical half of hybrid matching, a bare
BM25 (`BareBM25`: weights precomputed into one sparse matrix, top 100, no filters or updates).
Overhead = pipeline time / (encode + FAISS) - 1, and for match also / (encode + FAISS + BM25) - 1.
Slow encoders stop at a smaller size (`--max-postings`); their per-posting cost is flat (see the
columns), so a larger run only takes longer. Results go to `evaluation/results/scale.md` and the README
block between the `bench_scale` markers, unless `--quick` or `--no-write`.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "evaluation" / "results" / "scale.md"
README = ROOT / "README.md"
BEGIN, END = "<!-- bench_scale:begin -->", "<!-- bench_scale:end -->"
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
NEED_SHARE = 0.4
FILE_ROWS = 1000
ENCODERS = ("hashing", "use-m3", "e5-small-st", "e5-small")
MAX_POSTINGS = {"hashing": 100_000, "use-m3": 100_000, "e5-small-st": 10_000, "e5-small": 2_000}


# ----- postings ----------------------------------------------------------------------------------


def generate_rows(count: int) -> list[tuple[str, dict[str, Any]]]:
    """(kind, import row) pairs: the demo generator's postings over seeds 1, 2, ... until ``count``."""
    from data.demo.generate import build_corpus
    from models.schemas import AchievementCreate, NeedCreate

    needs_wanted = round(count * NEED_SHARE)
    needs: list[dict[str, Any]] = []
    achievements: list[dict[str, Any]] = []
    seed = 0
    while len(needs) < needs_wanted or len(achievements) < count - needs_wanted:
        seed += 1
        corpus = build_corpus(seed)
        for records, schema, out in (
            (corpus["needs"], NeedCreate, needs),
            (corpus["achievements"], AchievementCreate, achievements),
        ):
            for record in records:
                row = {k: v for k, v in record.items() if k in schema.model_fields}
                row["field_code"] = record.get("subfield_code") or record.get("field_code")
                row["external_id"] = f"S{seed}-{record['external_id']}"
                row["visibility"] = "public"
                out.append(row)
    rows = [("need", r) for r in needs[:needs_wanted]]
    rows += [("achievement", r) for r in achievements[: count - needs_wanted]]
    random.Random(0).shuffle(rows)
    return rows


# ----- the measured process --------------------------------------------------------------------


def rss_mb() -> float:
    """Resident set size now (Linux /proc), in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


@contextmanager
def fresh_database(url: str) -> Iterator[Any]:
    """A migrated, empty database: a private PostgreSQL schema (dropped after) or a new SQLite file."""
    from sqlalchemy import text

    from data.db import create_db_engine
    from data.migrate import upgrade

    schema = None
    if url.startswith("postgresql"):
        schema = f"bench_{uuid.uuid4().hex[:10]}"
        with create_db_engine(url).begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        url += ("&" if "?" in url else "?") + f"options=-csearch_path%3D{schema}"
    else:
        Path(url.split("///", 1)[-1]).unlink(missing_ok=True)
    db = create_db_engine(url)
    try:
        upgrade(db)
        yield db
    finally:
        db.dispose()
        if schema:
            with create_db_engine(url.split("?")[0]).begin() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))


def ingest(
    db: Any, index: Any, rows: Sequence[tuple[str, dict[str, Any]]], owners: dict[str, list[int]]
) -> int:
    """Import ``rows`` as JSONL files of up to FILE_ROWS rows, each for one organisation."""
    from services.actor import SYSTEM
    from services.imports import import_postings

    by_file: dict[tuple[str, int], list[dict[str, Any]]] = {}
    for n, (kind, row) in enumerate(rows):
        orgs = owners[kind]
        by_file.setdefault((kind, orgs[n % len(orgs)]), []).append(row)
    created = 0
    for (kind, org), org_rows in by_file.items():
        for start in range(0, len(org_rows), FILE_ROWS):
            payload = "".join(
                json.dumps(r, ensure_ascii=False) + "\n" for r in org_rows[start : start + FILE_ROWS]
            )
            result = import_postings(db, index, SYSTEM, kind, payload.encode(), "jsonl", org_id=org)  # type: ignore[arg-type]
            if result.invalid:
                bad = next(o for o in result.rows if o.status == "invalid")
                raise RuntimeError(f"benchmark rows refused: {bad.code}: {bad.message}")
            created += result.created
    return created


def worker(args: argparse.Namespace) -> dict[str, Any]:
    """Everything for one encoder, in this process; returns one result row per size."""
    import faiss
    import numpy as np
    from sqlmodel import Session, select

    from matcher.config import EngineConfig
    from matcher.encoders import EncoderConfig, create_encoder
    from matcher.filters import PostingFilter
    from models import Achievement, Need, Organization, OrgKind
    from services.actor import SYSTEM
    from services.config import Settings
    from services.demo import load_demo
    from services.index import IndexService, to_posting
    from services.postings import ACHIEVEMENT_OWNER_KINDS
    from services.suggestions import suggest_for

    settings = Settings()
    faiss.omp_set_num_threads(args.threads)
    rss_start = rss_mb()
    started = time.perf_counter()
    encoder = create_encoder(
        EncoderConfig(
            name=args.encoder, threads=args.threads, batch_size=args.batch_size, cache_dir=settings.cache_dir
        )
    )
    encoder.encode_documents(["预热", "warm-up"])
    load_s, rss_encoder = time.perf_counter() - started, rss_mb()
    rows = generate_rows(max(args.sizes))
    out: dict[str, Any] = {"encoder": args.encoder, "dim": encoder.dim, "load_s": load_s, "sizes": []}
    out["rss_encoder_mb"] = rss_encoder - rss_start
    with fresh_database(args.database_url) as db:
        load_demo(db)
        index = IndexService(encoder, EngineConfig.for_encoder(encoder.name), None)
        index.start(db)
        with Session(db) as session:
            orgs = session.exec(select(Organization)).all()
        owners = {
            "need": [o.id for o in orgs if o.kind is OrgKind.ENTERPRISE and o.id],
            "achievement": [
                o.id for o in orgs if o.kind in ACHIEVEMENT_OWNER_KINDS - {OrgKind.ENTERPRISE} and o.id
            ],
        }
        done = 0
        rss_before_ingest = rss_mb()
        for size in args.sizes:
            segment = rows[done:size]
            t0, c0 = time.perf_counter(), time.process_time()
            created = ingest(db, index, segment, owners)
            ingest_s, ingest_cpu = time.perf_counter() - t0, time.process_time() - c0
            done = size
            with Session(db) as session:
                queries = _newest(session, args.queries, args.queries)
                sample = _newest(
                    session, round(args.raw_sample * NEED_SHARE), round(args.raw_sample * (1 - NEED_SHARE))
                )
            texts = [index.engine.text_of(to_posting(r)) for r in sample]
            raw_encode_s = _time_encode(encoder, texts) / len(texts)
            vectors = {
                side: index.engine.collection(side).index.get_vectors(
                    index.engine.collection(side).index.ids()
                )
                for side in ("need", "achievement")
            }
            raw_add_s = _time_faiss_add(np.concatenate(list(vectors.values()))) / sum(
                len(v) for v in vectors.values()
            )
            raw_flat = {side: _flat(v) for side, v in vectors.items()}
            raw_bm25 = {side: BareBM25(index.engine.collection(side).texts) for side in vectors}
            service, engine_only, raw_query, raw_lexical = [], [], [], []
            for row in queries:
                t = time.perf_counter()
                if isinstance(row, Need):
                    hits = suggest_for(db, index, SYSTEM, Need, row.id or 0, k=10)
                else:
                    hits = suggest_for(db, index, SYSTEM, Achievement, row.id or 0, k=10)
                service.append(time.perf_counter() - t)
                if not hits:
                    raise RuntimeError(f"no suggestions for {type(row).__name__} {row.id}")
                posting = to_posting(row)
                t = time.perf_counter()
                index.suggest(row, 10, PostingFilter.for_counterparts(posting))
                engine_only.append(time.perf_counter() - t)
                text = index.engine.text_of(posting)
                t = time.perf_counter()
                raw_flat[str(posting.side.other)].search(encoder.encode_queries([text]), 10)
                raw_query.append(time.perf_counter() - t)
                t = time.perf_counter()
                raw_bm25[str(posting.side.other)].top(text, 100)
                raw_lexical.append(time.perf_counter() - t)
            counts = index.counts()
            out["sizes"].append(
                {
                    "postings": sum(counts.values()),
                    "created": created,
                    "ingest_per_s": created / ingest_s,
                    "ingest_cpu_per_s": created / ingest_cpu,
                    "raw_encode_per_s": 1 / raw_encode_s,
                    "raw_add_per_s": 1 / raw_add_s,
                    "ingest_overhead": (ingest_s / created) / (raw_encode_s + raw_add_s) - 1,
                    "match_p50_ms": 1000 * statistics.median(service),
                    "match_p99_ms": 1000 * percentile(service, 99),
                    "engine_p50_ms": 1000 * statistics.median(engine_only),
                    "engine_p99_ms": 1000 * percentile(engine_only, 99),
                    "raw_query_p50_ms": 1000 * statistics.median(raw_query),
                    "raw_query_p99_ms": 1000 * percentile(raw_query, 99),
                    "raw_bm25_p50_ms": 1000 * statistics.median(raw_lexical),
                    "raw_bm25_p99_ms": 1000 * percentile(raw_lexical, 99),
                    "match_overhead": statistics.median(service) / statistics.median(raw_query) - 1,
                    "hybrid_overhead": statistics.median(service)
                    / (statistics.median(raw_query) + statistics.median(raw_lexical))
                    - 1,
                    "queries": len(service),
                    "rss_index_mb": rss_mb() - rss_before_ingest,
                    "peak_rss_mb": peak_rss_mb(),
                }
            )
            print(json.dumps(out["sizes"][-1]), file=sys.stderr, flush=True)
    return out


def _newest(session: Any, needs: int, achievements: int) -> list[Any]:
    """The most recently stored needs and achievements (the last ingested segment)."""
    from sqlmodel import col, select

    from models import Achievement, Need

    found: list[Any] = []
    for model, count in ((Need, needs), (Achievement, achievements)):
        found.extend(session.exec(select(model).order_by(col(model.id).desc()).limit(count)).all())
    return found


def _time_encode(encoder: Any, texts: Sequence[str], chunk: int = 256) -> float:
    t = time.perf_counter()
    for start in range(0, len(texts), chunk):
        encoder.encode_documents(texts[start : start + chunk])
    return time.perf_counter() - t


def _time_faiss_add(vectors: Any) -> float:
    import faiss

    index = faiss.IndexFlatIP(vectors.shape[1])
    t = time.perf_counter()
    for start in range(0, len(vectors), 256):
        index.add(vectors[start : start + 256])
    return time.perf_counter() - t


class BareBM25:
    """The lexical baseline: BM25 weights precomputed into one sparse matrix (bm25s's "eager"
    scoring), no updates, no filters, no pruning; a query sums its terms' columns. Same tokens and
    constants as the engine's `BM25Index`."""

    def __init__(self, texts: dict[int, str], k1: float = 1.2, b: float = 0.75) -> None:
        from collections import Counter

        import numpy as np
        from scipy import sparse

        from matcher.tokenize import cjk_bigram_tokens

        self.tokenize = cjk_bigram_tokens
        self.vocab: dict[str, int] = {}
        self.ids = np.fromiter(texts, dtype=np.int64, count=len(texts))
        rows: list[int] = []
        cols: list[int] = []
        tfs: list[float] = []
        lengths = np.zeros(len(texts))
        for row, text in enumerate(texts.values()):
            tokens = self.tokenize(text)
            lengths[row] = len(tokens)
            for token, tf in Counter(tokens).items():
                rows.append(row)
                cols.append(self.vocab.setdefault(token, len(self.vocab)))
                tfs.append(tf)
        matrix = sparse.csc_matrix((tfs, (rows, cols)), shape=(len(texts), len(self.vocab)))
        df = np.diff(matrix.indptr)
        idf = np.log1p((len(texts) - df + 0.5) / (df + 0.5))
        norm = k1 * (1 - b + b * lengths / max(lengths.mean(), 1e-9))
        tf = matrix.data
        matrix.data = np.repeat(idf, df) * tf * (k1 + 1) / (tf + norm[matrix.indices])
        self.matrix = matrix

    def top(self, text: str, k: int) -> Any:
        from collections import Counter

        import numpy as np

        counts = Counter(t for t in self.tokenize(text) if t in self.vocab)
        qids = np.fromiter((self.vocab[t] for t in counts), dtype=np.int64, count=len(counts))
        scores = self.matrix[:, qids] @ np.fromiter(counts.values(), dtype=np.float64, count=len(counts))
        best = np.argpartition(-scores, min(k, scores.size - 1))[:k]
        return self.ids[best[np.argsort(-scores[best])]]


def _flat(vectors: Any) -> Any:
    import faiss

    index = faiss.IndexFlatIP(vectors.shape[1])
    index.add(vectors)
    return index


# ----- the driver --------------------------------------------------------------------------------


def run_encoder(encoder: str, sizes: list[int], args: argparse.Namespace) -> dict[str, Any]:
    command = [sys.executable, __file__, "_worker", "--encoder", encoder, "--sizes", *map(str, sizes)]
    command += ["--database-url", args.database_url, "--threads", str(args.threads)]
    command += [
        "--queries",
        str(args.queries),
        "--raw-sample",
        str(args.raw_sample),
        "--batch-size",
        str(args.batch_size),
    ]
    print(f"== {encoder}: {', '.join(map(str, sizes))} postings", file=sys.stderr, flush=True)
    done = subprocess.run(command, check=True, stdout=subprocess.PIPE, text=True, cwd=ROOT)
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def render(results: Sequence[dict[str, Any]], args: argparse.Namespace) -> str:
    head = (
        f"Measured {datetime.now(UTC):%Y-%m-%d} with `python evaluation/benchmarks/bench_scale.py`: "
        f"{os.cpu_count()} cores, {args.threads} thread(s), load average before the run "
        f"{args.load_before:.1f}, database {args.database_url.split(':')[0].split('+')[0]}, "
        f"Python {platform.python_version()}. Postings = both sides together (40% needs); "
        f"match = one posting's top 10 through `suggest_for`, {args.queries} needs + {args.queries} "
        "achievements; raw = bare encoder, bare `IndexFlatIP` and a bare precomputed-weight BM25 "
        "(`BareBM25`, top 100) on the same texts and vectors.\n\n"
    )
    ingest = [
        "| encoder | postings | ingest /s | raw encode /s | raw FAISS add /s | ingest overhead | peak RSS MB |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    match = [
        "| encoder | postings | match p50 / p99 ms | engine only p50 / p99 ms "
        "| raw encode+FAISS p50 / p99 ms | raw BM25 p50 / p99 ms | overhead vs raw dense "
        "| overhead vs raw dense + BM25 |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for result in results:
        for s in result["sizes"]:
            name = f"| {result['encoder']} | {s['postings']:,} "
            ingest.append(
                f"{name}| {s['ingest_per_s']:,.0f} | {s['raw_encode_per_s']:,.0f} | {s['raw_add_per_s']:,.0f} "
                f"| {s['ingest_overhead']:+.0%} | {s['peak_rss_mb']:,.0f} |"
            )
            match.append(
                f"{name}| {s['match_p50_ms']:.1f} / {s['match_p99_ms']:.1f} "
                f"| {s['engine_p50_ms']:.1f} / {s['engine_p99_ms']:.1f} "
                f"| {s['raw_query_p50_ms']:.1f} / {s['raw_query_p99_ms']:.1f} "
                f"| {s['raw_bm25_p50_ms']:.1f} / {s['raw_bm25_p99_ms']:.1f} "
                f"| {s['match_overhead']:+.0%} | {s['hybrid_overhead']:+.0%} |"
            )
    lines = ["Ingest:", "", *ingest, "", "Match (one posting's top 10):", "", *match]
    return head + "\n".join(lines) + "\n"


def write_readme(table: str) -> None:
    text = README.read_text(encoding="utf-8")
    if BEGIN not in text or END not in text:
        raise SystemExit(f"README.md has no {BEGIN} … {END} block to fill")
    before, rest = text.split(BEGIN, 1)
    after = rest.split(END, 1)[1]
    README.write_text(f"{before}{BEGIN}\n{table}{END}{after}", encoding="utf-8")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("mode", nargs="?", default="run", choices=["run", "_worker"])
    parser.add_argument("--encoders", nargs="+", default=list(ENCODERS))
    parser.add_argument("--encoder", help=argparse.SUPPRESS)
    parser.add_argument("--sizes", nargs="+", type=int, default=[10_000, 100_000])
    parser.add_argument("--max-postings", type=int, help="cap for every encoder (default: per encoder)")
    parser.add_argument("--database-url", default=os.environ.get("TECHMATCH_BENCH_DATABASE_URL", DEFAULT_PG))
    parser.add_argument("--threads", type=int, default=1, help="encoder and FAISS threads")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--queries", type=int, default=100, help="match queries per side and size")
    parser.add_argument("--raw-sample", type=int, default=2000, help="texts for the raw-encoder baseline")
    parser.add_argument("--quick", action="store_true", help="2,000 postings, hashing and use-m3, no files")
    parser.add_argument("--no-write", action="store_true", help="print only")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.mode == "_worker":
        print(json.dumps(worker(args)))
        return 0
    if args.quick:
        args.encoders, args.sizes, args.no_write, args.queries = ["hashing", "use-m3"], [2000], True, 50
    args.load_before = os.getloadavg()[0]
    results = []
    for encoder in args.encoders:
        cap = args.max_postings or MAX_POSTINGS.get(encoder, max(args.sizes))
        sizes = sorted({min(s, cap) for s in args.sizes})
        results.append(run_encoder(encoder, sizes, args))
    table = render(results, args)
    print(table)
    if not args.no_write:
        RESULTS.write_text(table, encoding="utf-8")
        write_readme(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
