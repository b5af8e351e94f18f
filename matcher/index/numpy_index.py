"""Exact inner-product search in NumPy: the reference the FAISS backends are tested against."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from pathlib import Path

import numpy as np

from matcher.index.base import (
    FloatMatrix,
    IdArray,
    IndexCorruptError,
    SearchResult,
    allowed_array,
    as_id_array,
    check_vectors,
    member_mask,
    top_k,
)

__all__ = ["NumpyIndex"]

VECTORS_FILE = "vectors.npy"
IDS_FILE = "ids.npy"


class NumpyIndex:
    """Rows of a growable float32 matrix with an id -> row map; removal swaps in the last row."""

    backend = "numpy"

    def __init__(self, dim: int) -> None:
        self.dim = dim
        self._vectors: FloatMatrix = np.zeros((16, dim), dtype=np.float32)
        self._ids: IdArray = np.zeros(16, dtype=np.int64)
        self._row_of: dict[int, int] = {}

    def __len__(self) -> int:
        return len(self._row_of)

    def __contains__(self, item: object) -> bool:
        return item in self._row_of

    def ids(self) -> IdArray:
        """Ids in row order."""
        return self._ids[: len(self)].copy()

    def upsert(self, ids: Sequence[int] | IdArray, vectors: FloatMatrix) -> None:
        """Insert new ids, overwrite existing ones."""
        id_arr = as_id_array(ids)
        matrix = check_vectors(vectors, self.dim, rows=id_arr.shape[0])
        self._reserve(len(self) + id_arr.shape[0])
        for doc_id, vector in zip(id_arr.tolist(), matrix, strict=True):
            row = self._row_of.get(doc_id)
            if row is None:
                row = len(self._row_of)
                self._row_of[doc_id] = row
                self._ids[row] = doc_id
            self._vectors[row] = vector

    def remove(self, ids: Sequence[int] | IdArray) -> None:
        """Remove ids; unknown ids are ignored."""
        for doc_id in as_id_array(ids).tolist():
            row = self._row_of.pop(doc_id, None)
            if row is None:
                continue
            last = len(self._row_of)
            if row != last:
                moved = int(self._ids[last])
                self._vectors[row] = self._vectors[last]
                self._ids[row] = moved
                self._row_of[moved] = row

    def get_vectors(self, ids: Sequence[int] | IdArray) -> FloatMatrix:
        """Stored vectors of ``ids`` (KeyError for an unknown id)."""
        rows = [self._row_of[i] for i in as_id_array(ids).tolist()]
        return np.ascontiguousarray(self._vectors[rows], dtype=np.float32)

    def search(
        self, queries: FloatMatrix, k: int, allowed: Collection[int] | None = None
    ) -> list[SearchResult]:
        """Exact top-k per query, restricted to ``allowed`` when given."""
        matrix = check_vectors(queries, self.dim)
        n = len(self)
        if allowed is None:
            ids, stored = self._ids[:n], self._vectors[:n]
        else:
            rows = np.flatnonzero(member_mask(self._ids[:n], allowed_array(allowed)))
            ids, stored = self._ids[rows], self._vectors[rows]
        scores = matrix @ stored.T
        return [top_k(scores[q], ids, k) for q in range(matrix.shape[0])]

    def save(self, directory: Path) -> list[str]:
        """Write vectors.npy and ids.npy."""
        np.save(directory / VECTORS_FILE, self._vectors[: len(self)], allow_pickle=False)
        np.save(directory / IDS_FILE, self.ids(), allow_pickle=False)
        return [VECTORS_FILE, IDS_FILE]

    @classmethod
    def load(cls, directory: Path, dim: int) -> NumpyIndex:
        """Read what `save` wrote."""
        try:
            vectors = np.load(directory / VECTORS_FILE, allow_pickle=False)
            ids = np.load(directory / IDS_FILE, allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise IndexCorruptError(f"cannot read numpy index in {directory}: {exc}") from exc
        index = cls(dim)
        index.upsert(ids, vectors)
        return index

    def _reserve(self, size: int) -> None:
        capacity = self._vectors.shape[0]
        if size <= capacity:
            return
        new_capacity = max(size, 2 * capacity)
        vectors = np.zeros((new_capacity, self.dim), dtype=np.float32)
        vectors[:capacity] = self._vectors
        ids = np.zeros(new_capacity, dtype=np.int64)
        ids[:capacity] = self._ids
        self._vectors, self._ids = vectors, ids
