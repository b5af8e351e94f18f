"""Regenerate the README quality table: every shared set and slice, the engine beside BM25.

    python -m evaluation.report [--data-dir ../shared/data] [--out evaluation/results/quality.md]

Missing sets are skipped with a note, so the table can be rebuilt wherever some of the data exists.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from evaluation.cache import DEFAULT_CACHE_DIR
from evaluation.datasets import DatasetError, load_dataset
from evaluation.harness import HarnessConfig, run_evaluation
from evaluation.results import BM25_SYSTEM, ENGINE_SYSTEM, MARKDOWN_HEADER, markdown_rows

logger = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA_DIR = REPO_ROOT.parent / "shared" / "data"
DEFAULT_OUT = REPO_ROOT / "evaluation" / "results" / "quality.md"


@dataclass(frozen=True)
class Slice:
    """One row group of the table: a dataset directory and the queries/qrels files to use."""

    label: str
    directory: str
    queries: str = "queries.jsonl"
    qrels: str = "qrels.tsv"
    include_title: bool = False


SLICES: tuple[Slice, ...] = (
    Slice("csl_dev_zh titles", "csl_dev_zh"),
    Slice("csl_dev_zh keywords", "csl_dev_zh", "queries_keywords.jsonl", "qrels_keywords.tsv"),
    Slice("csl_dev_zh low-overlap", "csl_dev_zh", "queries_lowoverlap.jsonl", "qrels_lowoverlap.tsv"),
    Slice("nasa_t2_en", "nasa_t2_en"),
    # scifact keeps paper titles in corpus.jsonl (no doc_meta.jsonl); BEIR's scifact figures use them.
    Slice("scifact_en (title + abstract)", "scifact_en", include_title=True),
)


def evaluate_slices(
    data_dir: Path, config: HarnessConfig, slices: Sequence[Slice] = SLICES, *, seed: int = 0
) -> list[tuple[Slice, dict[str, Any]]]:
    """Run the harness on every slice whose files exist; return (slice, summary) pairs."""
    results: list[tuple[Slice, dict[str, Any]]] = []
    for item in slices:
        root = data_dir / item.directory
        if not (root / item.queries).is_file():
            logger.warning("skipping %s: %s not found", item.label, root / item.queries)
            continue
        dataset = load_dataset(root, queries=item.queries, qrels=item.qrels, include_title=item.include_title)
        started = time.perf_counter()
        summary = run_evaluation(dataset, config).summary(seed=seed)
        logger.info("%s done in %.0fs", item.label, time.perf_counter() - started)
        results.append((item, summary))
    return results


def render_markdown(results: Sequence[tuple[Slice, dict[str, Any]]], systems: Sequence[str]) -> str:
    """The quality table with a short provenance header."""
    if not results:
        return "No evaluation set was found.\n"
    settings = results[0][1]["settings"]
    lines = [
        "## Retrieval quality on the shared sets",
        "",
        f"Generated {datetime.now(UTC):%Y-%m-%d %H:%M} UTC by `python -m evaluation.report`. "
        f"`techmatch` is the engine in its default configuration (encoder `{settings['engine_encoder']}`, "
        f"fusion `{(settings.get('engine_config') or {}).get('fusion')}`); `bm25` is the same engine with the "
        "dense weight at 0. Δ is the paired difference in nDCG@10 against BM25 with a 95% bootstrap "
        "interval over queries (1,000 resamples, seed 0).",
        "",
        MARKDOWN_HEADER,
    ]
    for item, summary in results:
        label = f"{item.label} ({summary['queries']} q / {summary['documents']} docs)"
        lines.extend(markdown_rows(summary, label, systems))
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point; writes the table to --out and stdout."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="markdown file ('-' for stdout only)")
    parser.add_argument("--encoder", action="append", default=[], help="also show this encoder alone")
    parser.add_argument("--engine-encoder", default=None, help="experiments only: another engine encoder")
    parser.add_argument("--cache-dir", type=Path, default=DEFAULT_CACHE_DIR)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--only", action="append", default=[], help="run only these dataset directories")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    config = HarnessConfig(
        engine_encoder=args.engine_encoder,
        dense_baselines=tuple(args.encoder),
        cache_dir=args.cache_dir,
        threads=args.threads,
        workers=args.workers,
    )
    try:
        chosen = [item for item in SLICES if not args.only or item.directory in args.only]
        results = evaluate_slices(args.data_dir, config, chosen)
    except DatasetError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 2
    markdown = render_markdown(results, [ENGINE_SYSTEM, BM25_SYSTEM, *args.encoder])
    if str(args.out) != "-":
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(markdown, encoding="utf-8")
        logger.info("wrote %s", args.out)
    sys.stdout.write(markdown)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
