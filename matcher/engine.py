"""The match engine: two collections (needs, achievements), hybrid retrieval in both directions.

A query is run against the OTHER side's collection: hard filters first (allowed ids), then a dense
top-N and a BM25 top-N restricted to those ids, fused (reciprocal-rank or weighted), then explained.
Thread-safe: one re-entrant lock guards every read and write.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache, partial
from pathlib import Path
from typing import Any

import numpy as np

from matcher.collection import Collection
from matcher.config import EngineConfig
from matcher.dedup import DuplicateFlag, jaccard
from matcher.encoders.base import Encoder, FloatMatrix
from matcher.explain import Explanation, build_explanation
from matcher.filters import PostingFilter, city_prefix, top_field
from matcher.fusion import FusedHit, reciprocal_rank_fusion, weighted_score_fusion
from matcher.index.base import IdArray, check_vectors
from matcher.index.registry import create_index
from matcher.lexical import LexicalScores
from matcher.postings import Posting, Side, posting_text, redacted
from matcher.tokenize import char_shingles

__all__ = ["MatchEngine", "Suggestion"]


@dataclass(frozen=True)
class Suggestion:
    """One ranked candidate with its score components and explanation."""

    id: int
    score: float
    rank: int
    components: dict[str, float]
    explanation: Explanation


class MatchEngine:
    """Hybrid dense + lexical matching between needs and achievements."""

    def __init__(
        self,
        encoder: Encoder,
        config: EngineConfig | None = None,
        *,
        field_names: Mapping[str, str] | None = None,
    ) -> None:
        self.encoder = encoder
        self.config = config or EngineConfig.for_encoder_of(encoder)
        self.field_names: dict[str, str] = dict(field_names or {})
        self._lock = threading.RLock()
        self._collections = {side: self._new_collection(side) for side in Side}

    def _new_collection(self, side: Side) -> Collection:
        index = create_index(self.config.index_backend, self.encoder.dim)
        return Collection(side, index, tokenizer=self.config.tokenizer, bm25=self.config.bm25)

    @property
    def engine_version(self) -> str:
        """Encoder name + configuration hash, stored with every match."""
        return f"{self.encoder.name}@{self.config.fingerprint()}"

    def collection(self, side: Side | str) -> Collection:
        """The collection of one side (read-only use, please)."""
        return self._collections[Side(side)]

    def counts(self) -> dict[str, int]:
        """Number of indexed postings per side."""
        with self._lock:
            return {str(side): len(c) for side, c in self._collections.items()}

    def text_of(self, posting: Posting) -> str:
        """What this engine embeds for a posting (`posting_text` with the field name, if known)."""
        return posting_text(posting, self.field_names.get(posting.field_code or ""))

    # ----- writes ---------------------------------------------------------------------------------
    def upsert(self, postings: Sequence[Posting], vectors: FloatMatrix | None = None) -> None:
        """Index or re-index postings (batch-encoded unless ``vectors``, one row per posting, is given)."""
        if not postings:
            return
        texts = [self.text_of(p) for p in postings]
        if vectors is None:
            matrix = self.encoder.encode_documents(texts)
        else:
            matrix = check_vectors(vectors, self.encoder.dim, rows=len(postings))
        with self._lock:
            for side in Side:
                rows = [i for i, p in enumerate(postings) if p.side is side]
                if rows:
                    self._collections[side].upsert(
                        [postings[i] for i in rows], [texts[i] for i in rows], matrix[rows]
                    )

    def remove(self, side: Side | str, ids: Sequence[int]) -> None:
        """Remove postings of one side; unknown ids are ignored."""
        with self._lock:
            self._collections[Side(side)].remove(ids)

    # ----- reads ----------------------------------------------------------------------------------
    def suggest(
        self, posting: Posting, k: int = 10, filters: PostingFilter | None = None
    ) -> list[Suggestion]:
        """Best counterparts of a posting on the other side (the posting need not be indexed)."""
        text = self.text_of(posting)
        query = self.encoder.encode_queries([text])
        return self._rank(posting.side.other, text, query, k, filters, query_posting=posting, explain=True)

    def search_text(
        self,
        side: Side | str,
        text: str,
        k: int = 10,
        filters: PostingFilter | None = None,
        *,
        query_vector: FloatMatrix | None = None,
        explain: bool = True,
    ) -> list[Suggestion]:
        """Rank the postings of ``side`` against raw query text (used by the evaluation harness)."""
        query = self.encoder.encode_queries([text]) if query_vector is None else query_vector
        query = check_vectors(query, self.encoder.dim, rows=1)
        return self._rank(Side(side), text, query, k, filters, query_posting=None, explain=explain)

    def _rank(
        self,
        side: Side,
        text: str,
        query: FloatMatrix,
        k: int,
        filters: PostingFilter | None,
        *,
        query_posting: Posting | None,
        explain: bool,
    ) -> list[Suggestion]:
        with self._lock:
            coll = self._collections[side]
            allowed = coll.allowed_ids(filters)
            if k <= 0 or len(coll) == 0 or (allowed is not None and allowed.size == 0):
                return []
            lexical = coll.lexical.score_all(text)
            fused = self._fuse(coll, lexical, query, max(k, self.config.candidate_depth), allowed)[:k]
            self._fill_missing(coll, fused, lexical, query)
            idf = _memoised(coll.lexical.idf)  # the explanations ask for the same query terms again and again
            return [
                self._suggestion(coll, hit, rank, text, query_posting, explain, idf, filters)
                for rank, hit in enumerate(fused, start=1)
            ]

    def _fuse(
        self,
        coll: Collection,
        lexical: LexicalScores,
        query: FloatMatrix,
        depth: int,
        allowed: IdArray | None,
    ) -> list[FusedHit]:
        cfg = self.config
        dense = coll.index.search(query, depth, allowed)[0].pairs() if cfg.dense_weight > 0 else []
        lex = [(h.id, h.score) for h in lexical.top(depth, allowed)] if cfg.lexical_weight > 0 else []
        weights = {"dense": cfg.dense_weight, "lexical": cfg.lexical_weight}
        if cfg.fusion == "rrf":
            return reciprocal_rank_fusion({"dense": dense, "lexical": lex}, k=cfg.rrf_k, weights=weights)
        # weighted: every candidate gets its exact score in both lists before normalisation
        dense_ids, lexical_ids = {i for i, _ in dense}, {i for i, _ in lex}
        extra_dense = coll.dense_scores(query, sorted(lexical_ids - dense_ids)) if dense else {}
        extra_lexical = lexical.get(sorted(dense_ids - lexical_ids)) if lex else {}
        rankings = {
            "dense": dense + sorted(extra_dense.items(), key=lambda kv: (-kv[1], kv[0])),
            "lexical": lex + sorted(extra_lexical.items(), key=lambda kv: (-kv[1], kv[0])),
        }
        return weighted_score_fusion(rankings, weights, normalization=cfg.normalization)

    def _fill_missing(
        self, coll: Collection, hits: list[FusedHit], lexical: LexicalScores, query: FloatMatrix
    ) -> None:
        """Give every returned hit its exact dense and lexical scores, even if it came from one list."""
        by_id = {h.id: h for h in hits}
        missing = [h.id for h in hits if "dense" not in h.components]
        for doc_id, score in coll.dense_scores(query, missing).items():
            by_id[doc_id].components["dense"] = score
        missing = [h.id for h in hits if "lexical" not in h.components]
        for doc_id, score in lexical.get(missing).items():
            by_id[doc_id].components["lexical"] = score

    def _suggestion(
        self,
        coll: Collection,
        hit: FusedHit,
        rank: int,
        text: str,
        query_posting: Posting | None,
        explain: bool,
        idf: Callable[[str], float],
        filters: PostingFilter | None,
    ) -> Suggestion:
        components = {**hit.components, "fused": hit.score}
        candidate = coll.postings[hit.id]
        candidate_text = coll.texts[hit.id]
        if filters is not None and filters.hides(candidate):  # explained only from what the caller sees
            candidate = redacted(candidate)
            candidate_text = self.text_of(candidate)
        if query_posting is not None:
            components.update(_attribute_components(query_posting, candidate))
        explanation = (
            build_explanation(
                text,
                candidate_text,
                idf,
                components,
                query=query_posting,
                candidate=candidate,
            )
            if explain
            else Explanation(components=components)
        )
        return Suggestion(hit.id, hit.score, rank, components, explanation)

    def find_duplicates(self, posting: Posting, vector: FloatMatrix | None = None) -> list[DuplicateFlag]:
        """Existing postings on the same side that the given one nearly repeats (itself excluded)."""
        return self.find_duplicates_many([posting], vector)[0]

    def find_duplicates_many(
        self, postings: Sequence[Posting], vectors: FloatMatrix | None = None
    ) -> list[list[DuplicateFlag]]:
        """`find_duplicates` for a batch of new postings, one dense search for all of them.

        A posting is also checked against the batch's earlier postings of its side, so a file that
        repeats itself is flagged just as if its rows had been created one after another.
        """
        if not postings:
            return []
        texts = [self.text_of(p) for p in postings]
        matrix = (
            self.encoder.encode_documents(texts)
            if vectors is None
            else check_vectors(vectors, self.encoder.dim, rows=len(postings))
        )
        flags: list[list[DuplicateFlag]] = [[] for _ in postings]
        # a text is shingled once per batch, however many candidates it is compared with
        shingles = lru_cache(maxsize=None)(partial(char_shingles, size=self.config.dedup.shingle_size))
        with self._lock:
            for side in Side:
                rows = [i for i, p in enumerate(postings) if p.side is side]
                if rows:
                    coll = self._collections[side]
                    self._duplicates_on_side(coll, postings, texts, matrix, rows, flags, shingles)
        return [sorted(f, key=lambda flag: (-flag.cosine, flag.existing_id)) for f in flags]

    def _duplicates_on_side(
        self,
        coll: Collection,
        postings: Sequence[Posting],
        texts: Sequence[str],
        matrix: FloatMatrix,
        rows: Sequence[int],
        flags: list[list[DuplicateFlag]],
        shingles: Callable[[str], frozenset[str]],
    ) -> None:
        cfg = self.config.dedup
        results = coll.index.search(matrix[rows], cfg.candidates + 1) if len(coll) else []
        for at, result in zip(rows, results, strict=False):
            for doc_id, cosine in result.pairs():
                if doc_id != postings[at].id and cosine >= cfg.min_cosine:
                    jac = jaccard(shingles(texts[at]), shingles(coll.texts[doc_id]))
                    self._flag(flags[at], postings[at], coll.postings[doc_id], cosine, jac)
        if len(rows) > 1:  # earlier postings of the same batch
            within = matrix[rows] @ matrix[rows].T
            for a, b in zip(*np.nonzero(np.tril(within, -1) >= cfg.min_cosine), strict=True):
                i, j = rows[a], rows[b]
                if postings[i].id != postings[j].id:
                    jac = jaccard(shingles(texts[i]), shingles(texts[j]))
                    self._flag(flags[i], postings[i], postings[j], float(within[a, b]), jac)

    def _flag(
        self, out: list[DuplicateFlag], new: Posting, other: Posting, cosine: float, jac: float
    ) -> None:
        if jac >= self.config.dedup.min_jaccard:
            same_org = new.org_id is not None and new.org_id == other.org_id
            out.append(DuplicateFlag(other.id, str(new.side), float(cosine), jac, same_org))

    # ----- persistence ----------------------------------------------------------------------------
    def save(self, directory: Path | str) -> None:
        """Persist both collections with manifests (see `matcher.persist`)."""
        from matcher.persist import save_engine

        with self._lock:
            save_engine(self, Path(directory))

    @classmethod
    def load(
        cls, directory: Path | str, encoder: Encoder, config: EngineConfig | None = None, **kwargs: Any
    ) -> MatchEngine:
        """Load a saved engine; raises ManifestMismatchError / IndexCorruptError when it cannot be used."""
        from matcher.persist import load_engine

        engine = cls(encoder, config, **kwargs)
        load_engine(engine, Path(directory))
        return engine


def _memoised(function: Callable[[str], float]) -> Callable[[str], float]:
    cache: dict[str, float] = {}

    def lookup(term: str) -> float:
        value = cache.get(term)
        if value is None:
            value = cache[term] = function(term)
        return value

    return lookup


def _attribute_components(query: Posting, candidate: Posting) -> dict[str, float]:
    """0/1 agreement on field and region, shown next to the scores (not part of the fused score)."""
    out: dict[str, float] = {}
    if query.field_code and candidate.field_code:
        out["field_match"] = float(top_field(query.field_code) == top_field(candidate.field_code))
    if query.region_code and candidate.region_code:
        out["region_match"] = float(city_prefix(query.region_code) == city_prefix(candidate.region_code))
    return out
