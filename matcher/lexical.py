"""BM25 over an updatable inverted index (sparse term-frequency matrices).

Documents live in slots. Slots below ``_main_end`` are held in one CSC term-frequency matrix; newer
slots form a small "pending" matrix rebuilt on demand, and both are merged ("compacted") when the
pending part or the removed rows grow large. Statistics (document frequency, average length) are kept
exactly for the live documents, so scores equal a from-scratch BM25 at every moment.

Scoring uses the Lucene/BM25+ idf ``ln(1 + (N - df + 0.5) / (df + 0.5))`` and counts repeated query
terms once per occurrence (as rank_bm25 and bm25s do).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

import numpy as np
import numpy.typing as npt
from scipy import sparse

from matcher.tokenize import Tokenizer, get_tokenizer

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

__all__ = ["BM25Index", "BM25Params", "LexicalHit", "LexicalScores"]


@dataclass(frozen=True)
class BM25Params:
    """BM25 constants; the defaults are the usual ones."""

    k1: float = 1.2
    b: float = 0.75


@dataclass(frozen=True)
class LexicalHit:
    """One scored document."""

    id: int
    score: float


@dataclass(frozen=True)
class LexicalScores:
    """BM25 scores of one query against every slot; answers top-k and point look-ups without rescoring."""

    slot_scores: FloatArray
    slot_ids: IntArray
    slot_of: Mapping[int, int]

    def get(self, ids: Iterable[int]) -> dict[int, float]:
        """Score of each given id (0.0 for unknown ids or no shared term)."""
        return {i: float(self.slot_scores[s]) if (s := self.slot_of.get(i)) is not None else 0.0 for i in ids}

    def positive(self) -> tuple[IntArray, FloatArray]:
        """(ids, scores) of every live document with a positive score, in slot order."""
        slots = np.flatnonzero(self.slot_scores > 0)
        return self.slot_ids[slots], self.slot_scores[slots]

    def top(self, k: int, allowed: Collection[int] | None = None) -> list[LexicalHit]:
        """Top-k with positive scores, optionally among ``allowed`` ids; ties go to the smaller id."""
        if allowed is None:
            ids, scores = self.positive()
        else:
            slots = np.fromiter(
                (s for i in allowed if (s := self.slot_of.get(i)) is not None), dtype=np.int64
            )
            slots = slots[self.slot_scores[slots] > 0]
            ids, scores = self.slot_ids[slots], self.slot_scores[slots]
        if k <= 0 or ids.size == 0:
            return []
        if ids.size > k:
            cut = np.argpartition(-scores, k - 1)[:k]
            keep = scores >= scores[cut].min()
            ids, scores = ids[keep], scores[keep]
        order = np.lexsort((ids, -scores))[:k]
        return [LexicalHit(int(ids[i]), float(scores[i])) for i in order]


class BM25Index:
    """BM25 keyed by integer ids with add/update/remove and filtered top-k search."""

    def __init__(
        self,
        tokenizer: Tokenizer | str = "cjk-bigram",
        params: BM25Params | None = None,
        *,
        min_compact: int = 2048,
    ) -> None:
        self.tokenize: Tokenizer = get_tokenizer(tokenizer) if isinstance(tokenizer, str) else tokenizer
        self.params = params or BM25Params()
        self._min_compact = min_compact
        self._vocab: dict[str, int] = {}
        self._df: IntArray = np.zeros(1024, dtype=np.int64)
        self._slot_of: dict[int, int] = {}
        self._slot_ids: list[int] = []
        self._slot_id_array: IntArray | None = None
        self._slot_terms: list[tuple[npt.NDArray[np.int32], npt.NDArray[np.float64]] | None] = []
        self._lengths: FloatArray = np.zeros(1024, dtype=np.float64)
        self._total_length = 0.0
        self._main_end = 0
        self._main: sparse.csc_matrix | None = None
        self._pending: sparse.csc_matrix | None = None
        self._dead_in_main = 0

    # ----- mutation -------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._slot_of)

    def __contains__(self, doc_id: object) -> bool:
        return doc_id in self._slot_of

    def ids(self) -> list[int]:
        """Ids of the live documents, in insertion order of their current version."""
        return [i for i in self._slot_ids if i >= 0]

    def upsert(self, doc_id: int, text: str) -> None:
        """Add a document, or replace the one with the same id."""
        self.upsert_tokens(doc_id, self.tokenize(text))

    def upsert_many(self, items: Iterable[tuple[int, str]]) -> None:
        """Add or replace several documents."""
        for doc_id, text in items:
            self.upsert(doc_id, text)

    def upsert_tokens(self, doc_id: int, tokens: Sequence[str]) -> None:
        """Add or replace a document given its tokens (lets callers reuse a tokenisation)."""
        if doc_id < 0:
            raise ValueError("document ids must be non-negative")
        self.remove([doc_id])
        counts = Counter(tokens)
        vocab = self._vocab
        ids = [vocab.get(t) for t in counts]
        term_ids = np.array(
            [self._term_id(t) if i is None else i for i, t in zip(ids, counts, strict=True)], dtype=np.int32
        )
        tfs = np.array(list(counts.values()), dtype=np.float64)
        slot = len(self._slot_ids)
        self._slot_ids.append(doc_id)
        self._slot_id_array = None
        self._slot_terms.append((term_ids, tfs))
        self._lengths = _ensure_size(self._lengths, slot + 1)
        self._lengths[slot] = float(len(tokens))
        self._total_length += float(len(tokens))
        self._df[term_ids] += 1
        self._slot_of[doc_id] = slot
        self._pending = None

    def remove(self, ids: Iterable[int]) -> None:
        """Remove documents; unknown ids are ignored."""
        for doc_id in ids:
            slot = self._slot_of.pop(doc_id, None)
            if slot is None:
                continue
            terms = self._slot_terms[slot]
            assert terms is not None
            self._df[terms[0]] -= 1
            self._total_length -= self._lengths[slot]
            self._slot_terms[slot] = None
            self._slot_ids[slot] = -1
            self._slot_id_array = None
            if slot < self._main_end:
                self._dead_in_main += 1
            else:
                self._pending = None

    def _term_id(self, token: str) -> int:
        tid = self._vocab.get(token)
        if tid is None:
            tid = len(self._vocab)
            self._vocab[token] = tid
            self._df = _ensure_size(self._df, tid + 1)
        return tid

    # ----- statistics -----------------------------------------------------------------------------
    def idf(self, token: str) -> float:
        """Inverse document frequency of a token (0.0 for unknown tokens)."""
        tid = self._vocab.get(token)
        if tid is None or not self._slot_of:
            return 0.0
        return float(self._idf(np.array([tid]))[0])

    def _idf(self, term_ids: npt.NDArray[np.integer]) -> FloatArray:
        n = float(len(self._slot_of))
        df = self._df[term_ids].astype(np.float64)
        return np.asarray(np.log1p((n - df + 0.5) / (df + 0.5)), dtype=np.float64)

    # ----- search ---------------------------------------------------------------------------------
    def score_all(self, query: str | Sequence[str]) -> LexicalScores:
        """Score every document once; the result serves top-k and look-ups of single ids."""
        tokens = self.tokenize(query) if isinstance(query, str) else list(query)
        total = np.zeros(len(self._slot_ids), dtype=np.float64)
        qcounts = Counter(t for t in tokens if t in self._vocab)
        if qcounts and self._slot_of:
            self._maybe_compact()
            total = np.zeros(len(self._slot_ids), dtype=np.float64)
            qids = np.fromiter((self._vocab[t] for t in qcounts), dtype=np.int64, count=len(qcounts))
            counts = np.fromiter(qcounts.values(), dtype=np.float64, count=len(qcounts))
            qweights = self._idf(qids) * counts
            for offset, matrix in ((0, self._main), (self._main_end, self._pending_matrix())):
                if matrix is not None and matrix.shape[0]:
                    self._accumulate(total, offset, matrix, qids, qweights)
        slot_ids = self._slot_ids_array()
        total[slot_ids < 0] = 0.0
        return LexicalScores(total, slot_ids, self._slot_of)

    def _slot_ids_array(self) -> IntArray:
        if self._slot_id_array is None:
            self._slot_id_array = np.asarray(self._slot_ids, dtype=np.int64)
        return self._slot_id_array

    def scores(self, query: str | Sequence[str]) -> tuple[IntArray, FloatArray]:
        """(ids, scores) of every live document with a positive score, unordered."""
        return self.score_all(query).positive()

    def _accumulate(
        self, total: FloatArray, offset: int, matrix: sparse.csc_matrix, qids: IntArray, qw: FloatArray
    ) -> None:
        inside = qids < matrix.shape[1]
        if not inside.any():
            return
        sub = matrix[:, qids[inside]]
        weights = qw[inside]
        col = np.repeat(np.arange(sub.shape[1]), np.diff(sub.indptr))
        rows = sub.indices.astype(np.int64) + offset
        tf = sub.data
        k1, b = self.params.k1, self.params.b
        avgdl = max(self._total_length / len(self._slot_of), 1e-9)
        norm = k1 * (1.0 - b + b * self._lengths[rows] / avgdl)
        contrib = weights[col] * tf * (k1 + 1.0) / (tf + norm)
        total += np.bincount(rows, weights=contrib, minlength=total.shape[0])

    def search(
        self, query: str | Sequence[str], k: int, allowed: Collection[int] | None = None
    ) -> list[LexicalHit]:
        """Top-k documents by BM25 (positive scores only), optionally restricted to ``allowed`` ids.

        Ties are broken by ascending id so results are deterministic.
        """
        return self.score_all(query).top(k, allowed)

    # ----- matrices -------------------------------------------------------------------------------
    def _pending_matrix(self) -> sparse.csc_matrix | None:
        if self._pending is None and len(self._slot_ids) > self._main_end:
            self._pending = self._build(range(self._main_end, len(self._slot_ids)))
        return self._pending

    def _build(self, slots: range) -> sparse.csc_matrix:
        rows: list[npt.NDArray[np.int64]] = []
        cols: list[npt.NDArray[np.int32]] = []
        vals: list[npt.NDArray[np.float64]] = []
        for r, slot in enumerate(slots):
            terms = self._slot_terms[slot]
            if terms is None:
                continue
            rows.append(np.full(terms[0].shape[0], r, dtype=np.int64))
            cols.append(terms[0])
            vals.append(terms[1])
        shape = (len(slots), len(self._vocab))
        if not rows:
            return sparse.csc_matrix(shape, dtype=np.float64)
        coo = sparse.coo_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape)
        return coo.tocsc()

    def _maybe_compact(self) -> None:
        pending = len(self._slot_ids) - self._main_end
        threshold = max(self._min_compact, self._main_end // 4)
        if pending > threshold or self._dead_in_main > threshold:
            self.compact()

    def compact(self) -> None:
        """Renumber live documents into one main matrix (drops removed rows)."""
        live = [s for s, i in enumerate(self._slot_ids) if i >= 0]
        self._slot_ids = [self._slot_ids[s] for s in live]
        self._slot_terms = [self._slot_terms[s] for s in live]
        lengths = self._lengths[live] if live else np.zeros(0)
        self._lengths = _ensure_size(np.array(lengths, dtype=np.float64), max(len(live), 1))
        self._slot_of = {doc_id: s for s, doc_id in enumerate(self._slot_ids)}
        self._slot_id_array = None
        self._main_end = len(live)
        self._main = self._build(range(self._main_end))
        self._pending = None
        self._dead_in_main = 0


_Scalar = TypeVar("_Scalar", bound=np.generic)


def _ensure_size(array: npt.NDArray[_Scalar], size: int) -> npt.NDArray[_Scalar]:
    """Grow a 1-d array geometrically (zero-filled) so it holds at least ``size`` items."""
    if array.shape[0] >= size:
        return array
    grown = np.zeros(max(size, 2 * array.shape[0]), dtype=array.dtype)
    grown[: array.shape[0]] = array
    return grown
