"""One side of the marketplace: vector index + BM25 index + the postings and their indexed text."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from matcher.attributes import AttributeTable
from matcher.filters import PostingFilter
from matcher.index.base import FloatMatrix, IdArray, VectorIndex
from matcher.lexical import BM25Index, BM25Params
from matcher.postings import Posting, Side

__all__ = ["Collection"]


class Collection:
    """Keeps the vector index, the lexical index and the posting attributes in step."""

    def __init__(self, side: Side, index: VectorIndex, *, tokenizer: str, bm25: BM25Params) -> None:
        self.side = side
        self.index = index
        self.lexical = BM25Index(tokenizer, bm25)
        self.attributes = AttributeTable(side)
        self.postings: dict[int, Posting] = {}
        self.texts: dict[int, str] = {}

    def __len__(self) -> int:
        return len(self.postings)

    def upsert(self, postings: Sequence[Posting], texts: Sequence[str], vectors: FloatMatrix) -> None:
        """Insert or replace postings whose text and vectors were computed by the caller."""
        if not postings:
            return
        for posting in postings:
            if posting.side is not self.side:
                raise ValueError(f"posting {posting.id} is a {posting.side}, collection holds {self.side}")
        ids = np.asarray([p.id for p in postings], dtype=np.int64)
        self.index.upsert(ids, vectors)
        self.add_indexed(postings, texts)

    def add_indexed(self, postings: Sequence[Posting], texts: Sequence[str]) -> None:
        """Record postings whose vectors are already in the index (upsert, or loading a saved engine)."""
        for posting, text in zip(postings, texts, strict=True):
            self.lexical.upsert(posting.id, text)
            self.postings[posting.id] = posting
            self.texts[posting.id] = text
        self.attributes.upsert(postings)
        self.lexical.maybe_compact()

    def allowed_ids(self, flt: PostingFilter | None) -> IdArray | None:
        """Ids passing the filter (None: no filter, everything is allowed)."""
        return None if flt is None else self.attributes.allowed_ids(flt)

    def remove(self, ids: Sequence[int]) -> None:
        """Remove postings by id; unknown ids are ignored."""
        id_list = [int(i) for i in ids]
        self.index.remove(np.asarray(id_list, dtype=np.int64))
        self.lexical.remove(id_list)
        self.attributes.remove(id_list)
        for doc_id in id_list:
            self.postings.pop(doc_id, None)
            self.texts.pop(doc_id, None)

    def dense_scores(self, query: FloatMatrix, ids: Sequence[int]) -> dict[int, float]:
        """Exact cosine of the query with the stored vectors of ``ids``."""
        if not ids:
            return {}
        vectors = self.index.get_vectors(np.asarray(ids, dtype=np.int64))
        scores = vectors @ query.reshape(-1)
        return {int(i): float(s) for i, s in zip(ids, scores, strict=True)}
