"""Dense inner-product search in Milvus through pymilvus's `MilvusClient`.

The same code talks to Milvus Lite (a local file, ``/path/milvus.db``: tests and CI) and to Milvus
Standalone or Distributed (``http://host:19530``). A collection holds ``id`` (INT64 primary key) and
``vector`` (FLOAT_VECTOR, exact FLAT index, inner product); filtering by allowed ids happens inside
the search (``id in [...]``), so a filtered query returns k results whenever k are eligible. Reads
are strongly consistent: a search sees every earlier upsert and delete of this process.

`save` writes only where the data lives (URI and collection name); the vectors stay in Milvus.
"""

from __future__ import annotations

import json
import tempfile
import threading
import uuid
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from matcher.index.base import (
    FloatMatrix,
    IdArray,
    IndexCorruptError,
    SearchResult,
    allowed_array,
    as_id_array,
    check_vectors,
    top_k,
)

__all__ = ["MilvusIndex", "configure"]

LOCATION_FILE = "milvus.json"
_BATCH = 2000
_MAX_LIMIT = 16384  # Milvus's largest top-k / query window
_clients: dict[str, Any] = {}
_clients_lock = threading.Lock()
_default_uri: str | None = None


def configure(uri: str | None) -> None:
    """Where new Milvus indexes live (set once at start-up from the settings; None: a temporary
    Milvus Lite file for this process)."""
    global _default_uri
    _default_uri = uri


def _client(uri: str) -> Any:
    """One client per URI and process (Milvus Lite opens its file once)."""
    with _clients_lock:
        if uri not in _clients:
            from pymilvus import MilvusClient

            _clients[uri] = MilvusClient(uri)
        return _clients[uri]


def _uri() -> str:
    global _default_uri
    if _default_uri is None:
        _default_uri = str(Path(tempfile.mkdtemp(prefix="techmatch-milvus-")) / "milvus.db")
    return _default_uri


class MilvusIndex:
    """A VectorIndex whose vectors live in one Milvus collection."""

    backend = "milvus"

    def __init__(self, dim: int, uri: str | None = None, collection: str | None = None) -> None:
        self.dim = dim
        self.uri = uri or _uri()
        self.collection = collection or f"tm_{uuid.uuid4().hex}"
        self._client = _client(self.uri)
        if not self._client.has_collection(self.collection):
            self._create()

    def _create(self) -> None:
        from pymilvus import DataType

        schema = self._client.create_schema(auto_id=False, enable_dynamic_field=False)
        schema.add_field("id", DataType.INT64, is_primary=True)
        schema.add_field("vector", DataType.FLOAT_VECTOR, dim=self.dim)
        params = self._client.prepare_index_params()
        params.add_index(field_name="vector", index_type="FLAT", metric_type="IP")
        self._client.create_collection(
            self.collection, schema=schema, index_params=params, consistency_level="Strong"
        )

    def __len__(self) -> int:
        rows = self._client.query(self.collection, filter="", output_fields=["count(*)"])
        return int(rows[0]["count(*)"])

    def __contains__(self, item: object) -> bool:
        if not isinstance(item, int | np.integer) or int(item) < 0:
            return False
        return bool(self._client.get(self.collection, ids=[int(item)], output_fields=["id"]))

    def ids(self) -> IdArray:
        found: list[int] = []
        iterator = self._client.query_iterator(
            self.collection, batch_size=_BATCH, filter="id >= 0", output_fields=["id"]
        )
        while batch := iterator.next():
            found.extend(int(r["id"]) for r in batch)
        iterator.close()
        return np.asarray(sorted(found), dtype=np.int64)

    def upsert(self, ids: Sequence[int] | IdArray, vectors: FloatMatrix) -> None:
        id_arr = as_id_array(ids)
        matrix = check_vectors(vectors, self.dim, rows=id_arr.shape[0])
        rows = [{"id": int(i), "vector": v.tolist()} for i, v in zip(id_arr.tolist(), matrix, strict=True)]
        for start in range(0, len(rows), _BATCH):
            self._client.upsert(self.collection, rows[start : start + _BATCH])

    def remove(self, ids: Sequence[int] | IdArray) -> None:
        id_list = as_id_array(ids).tolist()
        for start in range(0, len(id_list), _BATCH):
            self._client.delete(self.collection, ids=id_list[start : start + _BATCH])

    def get_vectors(self, ids: Sequence[int] | IdArray) -> FloatMatrix:
        """Stored vectors of ``ids`` in the order asked (KeyError for an unknown id)."""
        wanted = as_id_array(ids).tolist()
        found: dict[int, Any] = {}
        for start in range(0, len(wanted), _BATCH):
            chunk = wanted[start : start + _BATCH]
            for row in self._client.get(self.collection, ids=chunk, output_fields=["vector"]):
                found[int(row["id"])] = row["vector"]
        missing = [i for i in wanted if i not in found]
        if missing:
            raise KeyError(missing[0])
        return np.asarray([found[i] for i in wanted], dtype=np.float32).reshape(len(wanted), self.dim)

    def search(
        self, queries: FloatMatrix, k: int, allowed: Collection[int] | None = None
    ) -> list[SearchResult]:
        matrix = check_vectors(queries, self.dim)
        empty = SearchResult(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32))
        expression = ""
        if allowed is not None:
            allowed_ids = allowed_array(allowed)
            allowed_ids = allowed_ids[allowed_ids >= 0]
            if allowed_ids.size == 0:
                return [empty for _ in range(matrix.shape[0])]
            expression = f"id in [{','.join(str(int(i)) for i in np.unique(allowed_ids))}]"
        if k <= 0 or matrix.shape[0] == 0:
            return [empty for _ in range(matrix.shape[0])]
        hits = self._client.search(
            self.collection,
            data=[q.tolist() for q in matrix],
            limit=min(k, _MAX_LIMIT),
            filter=expression,
            output_fields=[],
            search_params={"metric_type": "IP"},
        )
        out = []
        for per_query in hits:
            ids = np.asarray([int(h["id"]) for h in per_query], dtype=np.int64)
            scores = np.asarray([float(h["distance"]) for h in per_query], dtype=np.float32)
            out.append(top_k(scores, ids, k))  # the contract's order: score, then ascending id
        return out

    def save(self, directory: Path) -> list[str]:
        """Record where the collection lives; the vectors themselves stay in Milvus."""
        location = {"uri": self.uri, "collection": self.collection, "dim": self.dim}
        (directory / LOCATION_FILE).write_text(json.dumps(location, sort_keys=True))
        return [LOCATION_FILE]

    @classmethod
    def load(cls, directory: Path, dim: int) -> MilvusIndex:
        try:
            location = json.loads((directory / LOCATION_FILE).read_text())
            uri, collection = str(location["uri"]), str(location["collection"])
        except (OSError, ValueError, KeyError) as exc:
            raise IndexCorruptError(f"cannot read the Milvus location in {directory}: {exc}") from exc
        if not _client(uri).has_collection(collection):
            raise IndexCorruptError(f"Milvus collection {collection} is gone from {uri}")
        return cls(dim, uri, collection)
