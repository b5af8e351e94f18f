"""The vector-index seam: one protocol, typed results, the errors it raises.

* VectorIndexError (base)
  - IndexCorruptError       a persisted file is missing, unreadable or fails its checksum
  - ManifestMismatchError   a persisted index was built by another encoder / dimension / backend
  - DimensionMismatchError  vectors of the wrong width were passed in
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

FloatMatrix = npt.NDArray[np.float32]
IdArray = npt.NDArray[np.int64]

__all__ = [
    "DimensionMismatchError",
    "FloatMatrix",
    "IdArray",
    "IndexCorruptError",
    "ManifestMismatchError",
    "SearchResult",
    "VectorIndex",
    "VectorIndexError",
    "allowed_array",
    "as_id_array",
    "check_vectors",
    "member_mask",
    "top_k",
]


class VectorIndexError(RuntimeError):
    """Base class of vector-index errors."""


class IndexCorruptError(VectorIndexError):
    """A persisted index file is missing, unreadable, or does not match its recorded checksum."""


class ManifestMismatchError(VectorIndexError):
    """A persisted index was built with another encoder, dimension or backend than requested."""


class DimensionMismatchError(VectorIndexError, ValueError):
    """Vectors do not have the index's dimension."""


@dataclass(frozen=True)
class SearchResult:
    """Top-k of one query, best first. ``ids`` and ``scores`` have the same length (<= k)."""

    ids: IdArray
    scores: npt.NDArray[np.float32]

    def pairs(self) -> list[tuple[int, float]]:
        """(id, score) tuples, best first."""
        return [(int(i), float(s)) for i, s in zip(self.ids, self.scores, strict=True)]


@runtime_checkable
class VectorIndex(Protocol):
    """Inner-product search over unit vectors keyed by int64 ids.

    ``search`` with ``allowed`` must return min(k, |allowed ∩ index|) results: filtering happens
    inside the search, never by trimming an unfiltered top-k.
    """

    backend: str
    dim: int

    def __len__(self) -> int: ...

    def __contains__(self, item: object) -> bool: ...

    def ids(self) -> IdArray: ...

    def upsert(self, ids: Sequence[int] | IdArray, vectors: FloatMatrix) -> None: ...

    def remove(self, ids: Sequence[int] | IdArray) -> None: ...

    def get_vectors(self, ids: Sequence[int] | IdArray) -> FloatMatrix: ...

    def search(
        self, queries: FloatMatrix, k: int, allowed: Collection[int] | None = None
    ) -> list[SearchResult]: ...

    def save(self, directory: Path) -> list[str]:
        """Write the payload files into ``directory``; return their names (for checksums)."""
        ...


def as_id_array(ids: Sequence[int] | IdArray) -> IdArray:
    """A 1-d int64 array of ids; rejects negative ids (FAISS uses -1 for "no result")."""
    arr = np.asarray(ids, dtype=np.int64).reshape(-1)
    if arr.size and arr.min() < 0:
        raise ValueError("ids must be non-negative")
    return arr


def allowed_array(allowed: Collection[int]) -> IdArray:
    """Allowed ids as a 1-d int64 array (no copy when they already are one)."""
    if isinstance(allowed, np.ndarray):
        return allowed.astype(np.int64, copy=False).reshape(-1)
    return np.fromiter(allowed, dtype=np.int64, count=len(allowed))


def member_mask(ids: IdArray, allowed: IdArray) -> npt.NDArray[np.bool_]:
    """Which of ``ids`` are in ``allowed``, vectorised (negative ids, FAISS's and BM25's "none", never are).

    Database ids are small and dense, so a bitmap over them answers in one pass; sparse huge ids fall
    back to a sort-based ``np.isin``.
    """
    if ids.size == 0 or allowed.size == 0:
        return np.zeros(ids.shape, dtype=bool)
    top = int(max(ids.max(), allowed.max()))
    if top >= 32 * (ids.size + allowed.size) + 4096:
        return np.isin(ids, allowed) & (ids >= 0)
    bitmap = np.zeros(top + 1, dtype=bool)
    bitmap[allowed[allowed >= 0]] = True
    return bitmap[np.clip(ids, 0, top)] & (ids >= 0)


def check_vectors(vectors: npt.ArrayLike, dim: int, rows: int | None = None) -> FloatMatrix:
    """C-contiguous float32 (n, dim); raises DimensionMismatchError on the wrong shape."""
    matrix = np.ascontiguousarray(vectors, dtype=np.float32)
    if matrix.ndim == 1 and matrix.shape[0] == dim:
        matrix = matrix.reshape(1, dim)
    if matrix.ndim != 2 or matrix.shape[1] != dim:
        raise DimensionMismatchError(f"expected vectors of shape (n, {dim}), got {matrix.shape}")
    if rows is not None and matrix.shape[0] != rows:
        raise ValueError(f"got {rows} ids but {matrix.shape[0]} vectors")
    return matrix


def top_k(scores: npt.NDArray[np.float32], ids: IdArray, k: int) -> SearchResult:
    """Exact top-k of a score vector; ties broken by ascending id."""
    if k <= 0 or ids.size == 0:
        return SearchResult(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32))
    if ids.size > k:
        cut = np.argpartition(-scores, k - 1)[:k]
        keep = scores >= scores[cut].min()
        scores, ids = scores[keep], ids[keep]
    order = np.lexsort((ids, -scores))[:k]
    return SearchResult(ids[order].astype(np.int64), scores[order].astype(np.float32))
