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

from matcher.index.base import allowed_array, member_mask
from matcher.tokenize import Tokenizer, get_tokenizer

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

__all__ = ["BM25Index", "BM25Params", "LexicalHit", "LexicalScores"]

MAX_EXACT = 1024  # documents scored one by one once pruning has narrowed the candidates this far


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


class LexicalScores:
    """BM25 of one query, scored only as far as the questions asked of it need.

    ``top(k)`` is exact but prunes (MaxScore): query terms are added rarest first into partial scores;
    once the k-th best partial score θ exceeds what the unscored, common terms could still add to every
    other document, only the few documents that could reach θ are scored in full. On templated
    marketplace text this skips most postings of characters such as 技 or 的. ``get`` scores the
    given documents exactly; ``positive`` scores everything. Valid until the index next changes.
    """

    def __init__(self, index: BM25Index, qids: IntArray, qweights: FloatArray) -> None:
        self._index = index
        order = np.argsort(index._df[qids], kind="stable")
        self._qids, self._qweights = qids[order], qweights[order]
        self._weight_by_term: FloatArray | None = None
        self._postings = np.cumsum(index._df[self._qids]) if qids.size else np.zeros(0, np.int64)
        self._norm = index._length_norms()
        self._done = 0
        self._partial = np.zeros(len(index._slot_ids), dtype=np.float64)
        self.slot_ids = index._slot_ids_array()
        self.slot_of: Mapping[int, int] = index._slot_of

    def _rest(self) -> float:
        """Upper bound of what the unscored terms can add to any document (tf/(tf+norm) < 1)."""
        return float(self._qweights[self._done :].sum())

    def _advance(self) -> None:
        """Score the next terms into the partial scores, reading about half as many postings again."""
        total = int(self._postings[-1])
        read = int(self._postings[self._done - 1]) if self._done else 0
        target = max(total // 8, (3 * read) // 2)
        stop = max(self._done + 1, int(np.searchsorted(self._postings, target, side="right")))
        stop = min(stop, self._qids.size)
        terms, weights = self._qids[self._done : stop], self._qweights[self._done : stop]
        for offset, matrix in self._index._matrices():
            rows = slice(offset, offset + matrix.shape[0])
            self._partial[rows] += _column_scores(matrix, terms, weights, self._norm[rows])
        self._done = stop

    def _exact(self, slots: IntArray) -> FloatArray:
        """Full scores of the given slots, from their own term lists (one vectorised pass)."""
        if self._done == self._qids.size:
            return np.asarray(self._partial[slots], dtype=np.float64)
        entries = [self._index._slot_terms[s] for s in slots.tolist()]
        lengths = np.fromiter((0 if e is None else e[0].size for e in entries), np.int64, len(entries))
        present = [e for e in entries if e is not None]
        if not present:
            return np.zeros(slots.size, dtype=np.float64)
        if self._weight_by_term is None:
            self._weight_by_term = np.zeros(len(self._index._vocab), dtype=np.float64)
            self._weight_by_term[self._qids] = self._qweights
        terms = np.concatenate([e[0] for e in present])
        tf = np.concatenate([e[1] for e in present])
        norm = np.repeat(self._norm[slots], lengths)
        contrib = self._weight_by_term[terms] * tf / (tf + norm)
        owner = np.repeat(np.arange(slots.size), lengths)
        return np.asarray(np.bincount(owner, weights=contrib, minlength=slots.size), dtype=np.float64)

    def get(self, ids: Iterable[int]) -> dict[int, float]:
        """Exact score of each given id (0.0 for unknown ids or no shared term)."""
        wanted = list(ids)
        known = [(i, s) for i in wanted if (s := self.slot_of.get(i)) is not None]
        scores = self._exact(np.asarray([s for _, s in known], dtype=np.int64))
        found = {i: float(v) for (i, _), v in zip(known, scores, strict=True)}
        return {i: found.get(i, 0.0) for i in wanted}

    def positive(self) -> tuple[IntArray, FloatArray]:
        """(ids, scores) of every live document with a positive score, in slot order (scores all)."""
        while self._done < self._qids.size:
            self._advance()
        slots = np.flatnonzero((self._partial > 0) & (self.slot_ids >= 0))
        return self.slot_ids[slots], self._partial[slots]

    def top(self, k: int, allowed: Collection[int] | None = None) -> list[LexicalHit]:
        """Exact top-k with positive scores, optionally among ``allowed`` ids; ties go to the smaller id."""
        if k <= 0:
            return []
        live = self.slot_ids >= 0
        if allowed is not None:
            live &= member_mask(self.slot_ids, allowed_array(allowed))
        slots = np.flatnonzero(live)
        while self._done < self._qids.size:
            partial = self._partial[slots]
            if np.count_nonzero(partial) >= k:
                theta = float(np.partition(partial, partial.size - k)[partial.size - k])
                could = slots[partial + self._rest() >= theta]
                if could.size <= MAX_EXACT:
                    return _top(self.slot_ids[could], self._exact(could), k)
            self._advance()
        return _top(self.slot_ids[slots], self._partial[slots], k)


def _top(ids: IntArray, scores: FloatArray, k: int) -> list[LexicalHit]:
    positive = scores > 0
    ids, scores = ids[positive], scores[positive]
    if ids.size == 0:
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
        """The query's scores against every document, computed lazily (see `LexicalScores`)."""
        tokens = self.tokenize(query) if isinstance(query, str) else list(query)
        qcounts = Counter(t for t in tokens if t in self._vocab)
        if self._slot_of:
            self.maybe_compact()
        qids = np.fromiter((self._vocab[t] for t in qcounts), dtype=np.int64, count=len(qcounts))
        counts = np.fromiter(qcounts.values(), dtype=np.float64, count=len(qcounts))
        live = self._df[qids] > 0
        qweights = self._idf(qids[live]) * counts[live] * (self.params.k1 + 1.0)
        return LexicalScores(self, qids[live], qweights)

    def _matrices(self) -> list[tuple[int, sparse.csc_matrix]]:
        """(first slot, matrix) of the main and pending term-frequency matrices that hold rows."""
        pairs = [(0, self._main), (self._main_end, self._pending_matrix())]
        return [(offset, m) for offset, m in pairs if m is not None and m.shape[0]]

    def _slot_ids_array(self) -> IntArray:
        if self._slot_id_array is None:
            self._slot_id_array = np.asarray(self._slot_ids, dtype=np.int64)
        return self._slot_id_array

    def scores(self, query: str | Sequence[str]) -> tuple[IntArray, FloatArray]:
        """(ids, scores) of every live document with a positive score, unordered."""
        return self.score_all(query).positive()

    def _length_norms(self) -> FloatArray:
        """k1 * (1 - b + b * length / avgdl) of every slot: the document half of the BM25 denominator."""
        k1, b = self.params.k1, self.params.b
        avgdl = max(self._total_length / len(self._slot_of), 1e-9)
        lengths = self._lengths[: len(self._slot_ids)]
        return np.asarray(k1 * (1.0 - b + (b / avgdl) * lengths), dtype=np.float64)

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

    def maybe_compact(self) -> None:
        """Merge the pending rows into the main matrix once they pass 1/16 of it (or ``min_compact``).

        Writers call this after a batch, so that a query seldom pays for it; the pending matrix a
        query rebuilds after a write stays small (at most 1/16 of the documents)."""
        pending = len(self._slot_ids) - self._main_end
        threshold = max(self._min_compact, self._main_end // 16)
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


def _column_scores(
    matrix: sparse.csc_matrix, qids: IntArray, qweights: FloatArray, norm: FloatArray
) -> FloatArray:
    """BM25 of every row of a term-frequency matrix: sum over query terms of w * tf / (tf + norm).

    One pass per term over its posting slice (rows within a column are distinct, so a fancy-indexed
    ``+=`` is exact); this is twice as fast as gathering every posting first or scipy column indexing.
    """
    total = np.zeros(matrix.shape[0], dtype=np.float64)
    indptr, indices, data = matrix.indptr, matrix.indices, matrix.data
    for term, weight in zip(qids.tolist(), qweights.tolist(), strict=True):
        if term >= matrix.shape[1]:
            continue
        start, end = indptr[term], indptr[term + 1]
        rows, tf = indices[start:end], data[start:end]
        total[rows] += weight * tf / (tf + norm[rows])
    return total


_Scalar = TypeVar("_Scalar", bound=np.generic)


def _ensure_size(array: npt.NDArray[_Scalar], size: int) -> npt.NDArray[_Scalar]:
    """Grow a 1-d array geometrically (zero-filled) so it holds at least ``size`` items."""
    if array.shape[0] >= size:
        return array
    grown = np.zeros(max(size, 2 * array.shape[0]), dtype=array.dtype)
    grown[: array.shape[0]] = array
    return grown
