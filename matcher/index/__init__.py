"""Vector indexes behind one protocol; FAISS is imported only when a FAISS backend is created."""

from matcher.index.base import (
    DimensionMismatchError,
    IndexCorruptError,
    ManifestMismatchError,
    SearchResult,
    VectorIndex,
    VectorIndexError,
)
from matcher.index.registry import BACKENDS, DEFAULT_BACKEND, create_index, set_search_threads
from matcher.index.store import IndexManifest, load_index, read_manifest, save_index

__all__ = [
    "BACKENDS",
    "DEFAULT_BACKEND",
    "DimensionMismatchError",
    "IndexCorruptError",
    "IndexManifest",
    "ManifestMismatchError",
    "SearchResult",
    "VectorIndex",
    "VectorIndexError",
    "create_index",
    "load_index",
    "read_manifest",
    "save_index",
    "set_search_threads",
]
