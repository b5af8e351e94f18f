"""`techmatch learn encoder`: adapt the default encoder to BEIR-layout pairs, measured on a held-back split.

Training rows are (query, relevant document, hard negative): the negative is a document the query's
set judged not relevant (a broker's rejection, when the set was exported from the decision log), else
the best-ranked non-relevant document of BM25 or of the base encoder (alternating by query), so the
model learns exactly where today's engine goes wrong. In-batch negatives come with the loss
(`fine_tune`). The held-back split (`learning.splits`) is never trained on, and the model directory
keeps its training-data hash, parameters, wall time and the base-versus-adapted table on that split.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import platform
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from evaluation.cache import DEFAULT_CACHE_DIR
from evaluation.datasets import Dataset, load_dataset
from evaluation.harness import HarnessConfig, Ranker, SystemSpec
from evaluation.results import BM25_SYSTEM
from learning.compare import ComparisonRow, compare_encoders, markdown_table
from learning.splits import DEFAULT_HELD_BACK, split_queries, subset
from matcher.encoders import EncoderError

logger = logging.getLogger(__name__)

EVALUATION_FILE = "evaluation.md"
HELD_BACK_DIR = "held_back"


@dataclass(frozen=True)
class EncoderTrainingParams:
    """Everything that changes the trained model (recorded in its manifest)."""

    base: str = "e5-small-st"
    epochs: int = 1
    batch_size: int = 16
    learning_rate: float = 2e-5
    max_seq_length: int = 128
    train_layers: int | None = 6
    negative_depth: int = 10
    held_back: float = DEFAULT_HELD_BACK
    seed: int = 0
    max_pairs: int | None = None


@dataclass
class TrainingData:
    """Rows to train on and the held-back part of every set, with a hash of exactly what is trained on."""

    rows: list[tuple[str, str, str]] = field(default_factory=list)
    held_back: dict[str, Dataset] = field(default_factory=dict)
    sets: dict[str, dict[str, int]] = field(default_factory=dict)

    def digest(self) -> str:
        h = hashlib.sha256()
        for row in self.rows:
            h.update(json.dumps(row, ensure_ascii=False).encode("utf-8"))
        for name, dataset in sorted(self.held_back.items()):
            h.update(json.dumps([name, sorted(dataset.queries)]).encode("utf-8"))
        return h.hexdigest()


def _rankings(ranker: Ranker, spec: SystemSpec, dataset: Dataset) -> dict[str, list[int]]:
    """Rank every query of the file (its cached query vectors are per file), best first."""
    rankings, _, _ = ranker.rank(spec, dataset.queries)
    return rankings


def _dense_rankings(ranker: Ranker, base: str, dataset: Dataset, depth: int) -> dict[str, list[int]]:
    """Exact inner-product top-``depth`` of the base encoder (cached vectors; no engine needed)."""
    encoder = ranker.encoder(base)
    docs = ranker.vectors(encoder, ranker.indexed_texts, "document")
    queries = ranker.vectors(encoder, list(dataset.queries.values()), "query")
    scores = queries @ docs.T
    top = np.argsort(-scores, axis=1, kind="stable")[:, :depth]
    return {query_id: [int(i) for i in top[row]] for row, query_id in enumerate(dataset.queries)}


def mine_rows(
    dataset: Dataset,
    train_ids: Sequence[str],
    base: str,
    *,
    depth: int,
    cache_dir: Path | None,
    workers: int,
) -> list[tuple[str, str, str]]:
    """(query, positive, hard negative) per relevant pair of each training query."""
    ranker = Ranker(dataset.doc_texts, HarnessConfig(cache_dir=cache_dir, workers=workers, depth=depth))
    lexical = _rankings(
        ranker,
        SystemSpec(BM25_SYSTEM, None, {"dense_weight": 0.0, "lexical_weight": 1.0, "fusion": "rrf"}),
        dataset,
    )
    dense = _dense_rankings(ranker, base, dataset, depth)
    rows: list[tuple[str, str, str]] = []
    for n, query_id in enumerate(train_ids):
        judged = dataset.qrels.get(query_id, {})
        relevant = {dataset.doc_index[d] for d, rel in judged.items() if rel > 0 and d in dataset.doc_index}
        rejected = [dataset.doc_index[d] for d, rel in judged.items() if rel <= 0 and d in dataset.doc_index]
        first, second = (lexical, dense) if n % 2 == 0 else (dense, lexical)
        near_misses = [i for i in first.get(query_id, []) + second.get(query_id, []) if i not in relevant]
        candidates = rejected + near_misses
        for k, positive in enumerate(sorted(relevant)):
            if not candidates:
                break
            negative = candidates[k % len(candidates)]
            rows.append((dataset.queries[query_id], dataset.doc_texts[positive], dataset.doc_texts[negative]))
    return rows


def collect_training_data(
    pair_dirs: Sequence[Path], params: EncoderTrainingParams, *, cache_dir: Path | None, workers: int
) -> TrainingData:
    """Load each set, split it, mine hard negatives for the training side."""
    data = TrainingData()
    for directory in pair_dirs:
        dataset = load_dataset(directory)
        name = directory.resolve().name
        split = split_queries(dataset, name, params.held_back)
        rows = mine_rows(
            dataset,
            split.train,
            params.base,
            depth=params.negative_depth,
            cache_dir=cache_dir,
            workers=workers,
        )
        data.rows.extend(rows)
        data.held_back[name] = subset(dataset, split.held_back, "held back")
        data.sets[name] = {"train_queries": len(split.train), "held_back_queries": len(split.held_back)}
        logger.info("%s: %d training rows, %d held-back queries", name, len(rows), len(split.held_back))
    if params.max_pairs is not None:
        data.rows = data.rows[: params.max_pairs]
    if len(data.rows) < 2:
        raise EncoderError("not enough training pairs (need at least two queries with a relevant document)")
    return data


def _machine() -> dict[str, Any]:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpu": model or platform.processor(), "cores": os.cpu_count(), "load_before": os.getloadavg()}


def write_held_back(directory: Path, held_back: dict[str, Dataset]) -> None:
    """queries.jsonl and qrels.tsv of each held-back split, for `techmatch evaluate --queries/--qrels`."""
    for name, dataset in held_back.items():
        target = directory / HELD_BACK_DIR / name
        target.mkdir(parents=True, exist_ok=True)
        with (target / "queries.jsonl").open("w", encoding="utf-8") as handle:
            for query_id, text in dataset.queries.items():
                handle.write(json.dumps({"id": query_id, "text": text}, ensure_ascii=False) + "\n")
        with (target / "qrels.tsv").open("w", encoding="utf-8") as handle:
            handle.write("query_id\tdoc_id\trelevance\n")
            for query_id, judged in dataset.qrels.items():
                for doc_id, rel in judged.items():
                    handle.write(f"{query_id}\t{doc_id}\t{rel}\n")


def train_encoder(
    pair_dirs: Sequence[Path],
    out: Path,
    params: EncoderTrainingParams,
    *,
    cache_dir: Path | None = DEFAULT_CACHE_DIR,
    workers: int = 2,
    threads: int = 2,
    evaluate: bool = True,
) -> dict[str, Any]:
    """Mine, train, save to ``out``, evaluate on the held-back split; return the manifest."""
    import torch

    from matcher.encoders.e5_st import FINETUNE_MANIFEST, fine_tune

    if not params.base.startswith("e5-small-st") and not params.base.startswith("st:"):
        raise EncoderError(f"--base must be e5-small-st or st:<dir of a tuned e5>, not {params.base!r}")
    machine = _machine()
    started = time.perf_counter()
    data = collect_training_data(pair_dirs, params, cache_dir=cache_dir, workers=workers)
    mined = time.perf_counter()
    torch.set_num_threads(max(1, threads))
    base_dir = Path(params.base.removeprefix("st:")).expanduser() if params.base.startswith("st:") else None
    manifest: dict[str, Any] = {
        "base": params.base,
        "sources": [str(p) for p in pair_dirs],
        "training_data_sha256": data.digest(),
        "sets": data.sets,
        "params": params.__dict__,
        "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": machine,
    }
    fine_tune(
        data.rows,
        out,
        epochs=params.epochs,
        batch_size=params.batch_size,
        seed=params.seed,
        base_model=base_dir,
        learning_rate=params.learning_rate,
        max_seq_length=params.max_seq_length,
        train_layers=params.train_layers,
        manifest=manifest,
    )
    trained = time.perf_counter()
    write_held_back(out, data.held_back)
    rows: list[ComparisonRow] = []
    if evaluate:
        candidate = f"st:{out}"
        for name, dataset in data.held_back.items():
            rows.extend(
                compare_encoders(
                    f"{name} held back", dataset, params.base, candidate, cache_dir=cache_dir, workers=workers
                )
            )
    finished = time.perf_counter()
    manifest_path = out / FINETUNE_MANIFEST
    saved = json.loads(manifest_path.read_text(encoding="utf-8"))
    saved["wall_seconds"] = {
        "mine_negatives": round(mined - started, 1),
        "train": round(trained - mined, 1),
        "evaluate_held_back": round(finished - trained, 1),
        "total": round(finished - started, 1),
    }
    saved["machine"]["load_after"] = os.getloadavg()
    saved["evaluation"] = [r.to_dict() for r in rows]
    manifest_path.write_text(json.dumps(saved, indent=2, ensure_ascii=False), encoding="utf-8")
    (out / EVALUATION_FILE).write_text(
        f"# {out.name}: base `{params.base}` against the adapted model on the held-back split\n\n"
        + markdown_table(rows, base=params.base, candidate="adapted"),
        encoding="utf-8",
    )
    return dict(saved)


def evaluate_model(
    model_dir: Path,
    data_dir: Path,
    *,
    base: str | None = None,
    only: Sequence[str] = (),
    cache_dir: Path | None = DEFAULT_CACHE_DIR,
    workers: int = 2,
) -> list[ComparisonRow]:
    """Base against the model on every shared set and slice, and on the held-back part of the sets it
    was trained on (rows labelled "… held back"); the rows promotion reads."""
    from evaluation.report import SLICES
    from matcher.encoders.e5_st import read_finetune_manifest

    manifest = read_finetune_manifest(model_dir)
    if manifest is None:
        raise EncoderError(f"{model_dir} is not a model made by `techmatch learn encoder`")
    base = base or str(manifest.get("base") or "e5-small-st")
    share = float(manifest.get("params", {}).get("held_back", DEFAULT_HELD_BACK))
    trained_on = {Path(p).resolve().name for p in manifest.get("sources", [])}
    candidate = f"st:{model_dir}"
    rows: list[ComparisonRow] = []
    for item in SLICES:
        if only and item.directory not in only:
            continue
        root = data_dir / item.directory
        if not (root / item.queries).is_file():
            logger.warning("skipping %s: %s not found", item.label, root / item.queries)
            continue
        dataset = load_dataset(root, queries=item.queries, qrels=item.qrels, include_title=item.include_title)
        if item.directory in trained_on:
            held = subset(dataset, split_queries(dataset, item.directory, share).held_back, "held back")
            rows.extend(
                compare_encoders(
                    f"{item.label} held back", held, base, candidate, cache_dir=cache_dir, workers=workers
                )
            )
            label = f"{item.label} (all, incl. trained)"
        else:
            label = f"{item.label} (never seen)"
        rows.extend(compare_encoders(label, dataset, base, candidate, cache_dir=cache_dir, workers=workers))
    return rows
