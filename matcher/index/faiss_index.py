"""FAISS backends: exact ``IndexIDMap2(IndexFlatIP)`` (default) and approximate HNSW.

Filtered search passes an ``IDSelector`` into the search so that ineligible vectors are skipped
inside FAISS. When the eligible set is small it is cheaper, and always exact, to score just those
vectors; and if an approximate search still comes back short of min(k, eligible), it falls back to
that exact path, so a filtered search returns k results whenever k eligible ids exist.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from pathlib import Path
from typing import Any

import faiss as _faiss_module
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

__all__ = ["FaissFlatIndex", "FaissHnswIndex"]

faiss: Any = _faiss_module  # the SWIG bindings' partial type hints do not cover SearchParameters fields

INDEX_FILE = "index.faiss"
POSITIONS_FILE = "positions.npy"
EXACT_SUBSET_MAX = 4096


def _results(distances: Any, labels: Any) -> list[SearchResult]:
    """Convert FAISS (D, I) arrays, dropping the -1 padding."""
    out = []
    for dist_row, label_row in zip(distances, labels, strict=True):
        keep = label_row >= 0
        out.append(SearchResult(label_row[keep].astype(np.int64), dist_row[keep].astype(np.float32)))
    return out


def _selector(ids: IdArray) -> tuple[Any, Any]:
    """An IDSelector for ``ids`` and the buffer it reads. Database ids are dense, so a bitmap (one
    bit per id up to the largest) is built in microseconds where IDSelectorBatch's hash set of 10⁵
    ids costs milliseconds; sparse huge ids still get the hash set."""
    top = int(ids.max())
    if top > 64 * ids.size + 65536:
        return faiss.IDSelectorBatch(ids), None
    bits = np.zeros(top + 1, dtype=bool)
    bits[ids] = True
    packed = np.packbits(bits, bitorder="little")
    return faiss.IDSelectorBitmap(packed.size, faiss.swig_ptr(packed)), packed


def _read(directory: Path) -> Any:
    try:
        return faiss.read_index(str(directory / INDEX_FILE))
    except RuntimeError as exc:
        raise IndexCorruptError(f"cannot read FAISS index in {directory}: {exc}") from exc


class FaissFlatIndex:
    """Exact search, keyed directly by external ids through IndexIDMap2."""

    backend = "faiss-flat"

    def __init__(self, dim: int, *, index: Any = None) -> None:
        self.dim = dim
        self._index: Any = index if index is not None else faiss.IndexIDMap2(faiss.IndexFlatIP(dim))
        self._members: set[int] = set(faiss.vector_to_array(self._index.id_map).tolist())

    def __len__(self) -> int:
        return int(self._index.ntotal)

    def __contains__(self, item: object) -> bool:
        return item in self._members

    def ids(self) -> IdArray:
        """Ids in storage order."""
        return np.asarray(faiss.vector_to_array(self._index.id_map), dtype=np.int64)

    def upsert(self, ids: Sequence[int] | IdArray, vectors: FloatMatrix) -> None:
        """Replace existing ids and add new ones (one batched removal, one batched add)."""
        id_arr = as_id_array(ids)
        matrix = check_vectors(vectors, self.dim, rows=id_arr.shape[0])
        id_arr, matrix = _last_wins(id_arr, matrix)
        self.remove(id_arr)
        self._index.add_with_ids(matrix, id_arr)
        self._members.update(id_arr.tolist())

    def remove(self, ids: Sequence[int] | IdArray) -> None:
        """Remove ids; unknown ids are ignored."""
        present = np.asarray([i for i in as_id_array(ids).tolist() if i in self._members], dtype=np.int64)
        if present.size:
            self._index.remove_ids(faiss.IDSelectorBatch(present))
            self._members.difference_update(present.tolist())

    def get_vectors(self, ids: Sequence[int] | IdArray) -> FloatMatrix:
        """Stored vectors (KeyError for an unknown id)."""
        id_arr = as_id_array(ids)
        missing = [i for i in id_arr.tolist() if i not in self._members]
        if missing:
            raise KeyError(f"ids not in index: {missing[:5]}")
        if id_arr.size == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.ascontiguousarray(self._index.reconstruct_batch(id_arr), dtype=np.float32)

    def search(
        self, queries: FloatMatrix, k: int, allowed: Collection[int] | None = None
    ) -> list[SearchResult]:
        """Top-k per query; ``allowed`` is applied inside the search."""
        matrix = check_vectors(queries, self.dim)
        if k <= 0 or len(self) == 0:
            return [top_k(np.zeros(0, np.float32), np.zeros(0, np.int64), 0) for _ in range(matrix.shape[0])]
        if allowed is None:
            distances, labels = self._index.search(matrix, min(k, len(self)))
            return _results(distances, labels)
        members = self.ids()
        eligible = members[member_mask(members, allowed_array(allowed))]
        if eligible.size <= EXACT_SUBSET_MAX:
            return _exact(matrix, eligible, self.get_vectors(eligible), k)
        selector, _buffer = _selector(eligible)  # _buffer: the bitmap must outlive the search
        params = faiss.SearchParameters(sel=selector)
        distances, labels = self._index.search(matrix, min(k, eligible.size), params=params)
        return _results(distances, labels)

    def save(self, directory: Path) -> list[str]:
        """Write index.faiss."""
        faiss.write_index(self._index, str(directory / INDEX_FILE))
        return [INDEX_FILE]

    @classmethod
    def load(cls, directory: Path, dim: int) -> FaissFlatIndex:
        """Read what `save` wrote."""
        return cls(dim, index=_read(directory))


class FaissHnswIndex:
    """Approximate HNSW search. HNSW cannot delete, so removals are tombstones until a rebuild."""

    backend = "faiss-hnsw"

    def __init__(self, dim: int, *, m: int = 32, ef_search: int = 128, ef_construction: int = 80) -> None:
        self.dim = dim
        self.m, self.ef_search, self.ef_construction = m, ef_search, ef_construction
        self._index: Any = self._new_hnsw()
        self._pos_ids: list[int] = []
        self._pos_of: dict[int, int] = {}
        self._dead: set[int] = set()

    def _new_hnsw(self) -> Any:
        index = faiss.IndexHNSWFlat(self.dim, self.m, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = self.ef_construction
        return index

    def __len__(self) -> int:
        return len(self._pos_of)

    def __contains__(self, item: object) -> bool:
        return item in self._pos_of

    def ids(self) -> IdArray:
        """Live ids in insertion order."""
        return np.asarray([i for i in self._pos_ids if i >= 0], dtype=np.int64)

    def upsert(self, ids: Sequence[int] | IdArray, vectors: FloatMatrix) -> None:
        """Tombstone replaced ids and append the new vectors."""
        id_arr = as_id_array(ids)
        matrix = check_vectors(vectors, self.dim, rows=id_arr.shape[0])
        id_arr, matrix = _last_wins(id_arr, matrix)
        self.remove(id_arr)
        start = int(self._index.ntotal)
        self._index.add(matrix)
        for offset, doc_id in enumerate(id_arr.tolist()):
            self._pos_ids.append(doc_id)
            self._pos_of[doc_id] = start + offset

    def remove(self, ids: Sequence[int] | IdArray) -> None:
        """Tombstone ids; rebuild the graph once a quarter of it is dead."""
        for doc_id in as_id_array(ids).tolist():
            pos = self._pos_of.pop(doc_id, None)
            if pos is not None:
                self._pos_ids[pos] = -1
                self._dead.add(pos)
        if len(self._dead) > max(64, self._index.ntotal // 4):
            self.rebuild()

    def rebuild(self) -> None:
        """Re-create the graph from the live vectors."""
        live = self.ids()
        vectors = self.get_vectors(live)
        self._index, self._pos_ids, self._pos_of, self._dead = self._new_hnsw(), [], {}, set()
        if live.size:
            self.upsert(live, vectors)

    def get_vectors(self, ids: Sequence[int] | IdArray) -> FloatMatrix:
        """Stored vectors (KeyError for an unknown id)."""
        positions = [self._pos_of[i] for i in as_id_array(ids).tolist()]
        out = np.zeros((len(positions), self.dim), dtype=np.float32)
        for row, pos in enumerate(positions):
            out[row] = self._index.reconstruct(pos)
        return out

    def search(
        self, queries: FloatMatrix, k: int, allowed: Collection[int] | None = None
    ) -> list[SearchResult]:
        """Approximate top-k; exact over the eligible subset when it is small or HNSW came back short."""
        matrix = check_vectors(queries, self.dim)
        if allowed is None:
            positions = None if not self._dead else np.asarray(sorted(self._pos_of.values()), dtype=np.int64)
            wanted = min(k, len(self))
        else:
            by_position = np.asarray(self._pos_ids, dtype=np.int64)
            positions = np.flatnonzero(member_mask(by_position, allowed_array(allowed))).astype(np.int64)
            wanted = min(k, positions.size)
            if positions.size <= EXACT_SUBSET_MAX:
                eligible = by_position[positions]
                return _exact(matrix, eligible, self.get_vectors(eligible), k)
        if wanted <= 0:
            return [top_k(np.zeros(0, np.float32), np.zeros(0, np.int64), 0) for _ in range(matrix.shape[0])]
        params = faiss.SearchParametersHNSW()
        params.efSearch = max(self.ef_search, wanted)
        if positions is not None:
            params.sel = faiss.IDSelectorBatch(positions)
        distances, labels = self._index.search(matrix, wanted, params=params)
        results = []
        for q, (dist_row, label_row) in enumerate(zip(distances, labels, strict=True)):
            keep = label_row >= 0
            if int(keep.sum()) < wanted:
                eligible = (
                    self.ids()
                    if positions is None
                    else np.asarray([self._pos_ids[p] for p in positions], dtype=np.int64)
                )
                results.extend(_exact(matrix[q : q + 1], eligible, self.get_vectors(eligible), k))
                continue
            mapped = np.asarray([self._pos_ids[p] for p in label_row[keep]], dtype=np.int64)
            results.append(SearchResult(mapped, dist_row[keep].astype(np.float32)))
        return results

    def save(self, directory: Path) -> list[str]:
        """Write index.faiss and positions.npy (position -> id, -1 for tombstones)."""
        faiss.write_index(self._index, str(directory / INDEX_FILE))
        np.save(directory / POSITIONS_FILE, np.asarray(self._pos_ids, dtype=np.int64), allow_pickle=False)
        return [INDEX_FILE, POSITIONS_FILE]

    @classmethod
    def load(cls, directory: Path, dim: int) -> FaissHnswIndex:
        """Read what `save` wrote."""
        index = cls(dim)
        index._index = _read(directory)
        try:
            positions = np.load(directory / POSITIONS_FILE, allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise IndexCorruptError(f"cannot read {POSITIONS_FILE} in {directory}: {exc}") from exc
        index._pos_ids = [int(i) for i in positions]
        index._pos_of = {doc_id: pos for pos, doc_id in enumerate(index._pos_ids) if doc_id >= 0}
        index._dead = {pos for pos, doc_id in enumerate(index._pos_ids) if doc_id < 0}
        return index


def _last_wins(ids: IdArray, vectors: FloatMatrix) -> tuple[IdArray, FloatMatrix]:
    """Deduplicate a batch, keeping the last vector given for each id."""
    if np.unique(ids).size == ids.size:
        return ids, vectors
    last = {doc_id: row for row, doc_id in enumerate(ids.tolist())}
    rows = sorted(last.values())
    return ids[rows], np.ascontiguousarray(vectors[rows])


def _exact(queries: FloatMatrix, ids: IdArray, vectors: FloatMatrix, k: int) -> list[SearchResult]:
    """Exact inner-product top-k over an explicit (small) candidate set."""
    scores = queries @ vectors.T if ids.size else np.zeros((queries.shape[0], 0), dtype=np.float32)
    return [top_k(scores[q], ids, k) for q in range(queries.shape[0])]
