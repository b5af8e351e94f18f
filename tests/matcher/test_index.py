"""Vector index contract, parametrised over every backend; FAISS checked against the NumPy reference."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from matcher.index import (
    BACKENDS,
    DimensionMismatchError,
    IndexCorruptError,
    ManifestMismatchError,
    create_index,
    load_index,
    read_manifest,
    save_index,
)
from matcher.index.base import VectorIndex, allowed_array, member_mask

DIM = 16


def unit(rng: np.random.Generator, n: int, dim: int = DIM) -> np.ndarray:
    x = rng.standard_normal((n, dim)).astype(np.float32)
    unit_rows: np.ndarray = x / np.linalg.norm(x, axis=1, keepdims=True)
    return unit_rows


def filled(
    backend: str, rng: np.random.Generator, n: int = 300
) -> tuple[VectorIndex, np.ndarray, np.ndarray]:
    index = create_index(backend, DIM)
    ids = rng.permutation(np.arange(1000, 1000 + 3 * n))[:n].astype(np.int64)
    vectors = unit(rng, n)
    index.upsert(ids, vectors)
    return index, ids, vectors


@pytest.mark.parametrize("backend", BACKENDS)
def test_contract_basic(backend: str, rng: np.random.Generator) -> None:
    index, ids, vectors = filled(backend, rng)
    assert isinstance(index, VectorIndex)
    assert len(index) == 300 and int(ids[0]) in index and 5 not in index
    assert sorted(index.ids().tolist()) == sorted(ids.tolist())
    assert np.allclose(index.get_vectors(ids[:3]), vectors[:3], atol=1e-6)
    hit = index.search(vectors[7:8], 1)[0]
    assert int(hit.ids[0]) == int(ids[7]) and hit.scores[0] == pytest.approx(1.0, abs=1e-5)
    with pytest.raises(DimensionMismatchError):
        index.upsert([1], np.zeros((1, DIM + 1), dtype=np.float32))


@pytest.mark.parametrize("backend", [b for b in BACKENDS if b != "numpy"])
def test_faiss_agrees_with_numpy_reference(backend: str) -> None:
    rng_a, rng_b = np.random.default_rng(7), np.random.default_rng(7)
    index, _, _ = filled(backend, rng_a)
    reference, _, _ = filled("numpy", rng_b)
    queries = unit(np.random.default_rng(8), 20)
    for got, want in zip(index.search(queries, 10), reference.search(queries, 10), strict=True):
        assert got.ids.tolist() == want.ids.tolist()
        assert np.allclose(got.scores, want.scores, atol=1e-5)


@pytest.mark.parametrize("backend", BACKENDS)
def test_upsert_replaces_and_remove_deletes(backend: str, rng: np.random.Generator) -> None:
    index, ids, vectors = filled(backend, rng, n=120)
    target = int(ids[0])
    index.upsert([target], vectors[1:2])  # now a copy of ids[1]'s vector
    assert len(index) == 120
    assert np.allclose(index.get_vectors([target]), vectors[1:2], atol=1e-6)
    index.remove([int(i) for i in ids[:50]] + [999_999])
    assert len(index) == 70 and target not in index
    found = {int(i) for r in index.search(vectors[:50], 70) for i in r.ids}
    assert found.isdisjoint(int(i) for i in ids[:50])
    assert len(index.search(vectors[:1], 500)[0].ids) == 70


FILTER_N = 4400  # above the exact-subset threshold, so the largest allowed set uses the IDSelector path


@pytest.fixture(scope="module", params=BACKENDS)
def big_index(request: pytest.FixtureRequest) -> tuple[VectorIndex, np.ndarray]:
    vectors = unit(np.random.default_rng(11), FILTER_N)
    index = create_index(request.param, DIM)
    index.upsert(np.arange(FILTER_N, dtype=np.int64), vectors)
    return index, vectors


@pytest.mark.parametrize("n_allowed", [3, 25, 4300])
def test_filtered_search_returns_k_when_k_eligible(
    big_index: tuple[VectorIndex, np.ndarray], n_allowed: int
) -> None:
    index, vectors = big_index
    query = vectors[:1]
    unfiltered = set(index.search(query, 50)[0].ids.tolist())
    pool = np.array(
        [i for i in range(FILTER_N) if i not in unfiltered]
    )  # the unfiltered top-50 are ineligible
    allowed = set(np.random.default_rng(n_allowed).choice(pool, size=n_allowed, replace=False).tolist())
    result = index.search(query, 10, allowed=allowed)[0]
    assert len(result.ids) == min(10, n_allowed)
    assert set(result.ids.tolist()) <= allowed
    exact = np.argsort(-(vectors[sorted(allowed)] @ query[0]))[:10]
    if index.backend != "faiss-hnsw" or n_allowed <= 4096:  # HNSW is approximate on large allowed sets
        assert result.ids.tolist() == [sorted(allowed)[i] for i in exact]


@pytest.mark.parametrize("backend", BACKENDS)
def test_save_load_round_trip(backend: str, rng: np.random.Generator, tmp_path: Path) -> None:
    index, ids, vectors = filled(backend, rng, n=80)
    index.remove([int(ids[0])])
    manifest = save_index(index, tmp_path / "idx", encoder="hashing")
    assert manifest.count == 79 and manifest.backend == backend and manifest.built_at.tzinfo is not None
    assert read_manifest(tmp_path / "idx") == manifest
    loaded = load_index(tmp_path / "idx", encoder="hashing", dim=DIM, backend=backend)
    assert sorted(loaded.ids().tolist()) == sorted(index.ids().tolist())
    queries = vectors[1:6]
    for a, b in zip(loaded.search(queries, 5), index.search(queries, 5), strict=True):
        assert a.ids.tolist() == b.ids.tolist()


@pytest.mark.parametrize("backend", BACKENDS)
def test_corrupt_file_is_detected(backend: str, rng: np.random.Generator, tmp_path: Path) -> None:
    index, _, _ = filled(backend, rng, n=40)
    manifest = save_index(index, tmp_path / "idx", encoder="hashing")
    victim = tmp_path / "idx" / next(iter(manifest.checksums))
    data = bytearray(victim.read_bytes())
    data[-5] ^= 0xFF
    victim.write_bytes(bytes(data))
    with pytest.raises(IndexCorruptError):
        load_index(tmp_path / "idx", encoder="hashing", dim=DIM)


def test_missing_or_malformed_manifest(rng: np.random.Generator, tmp_path: Path) -> None:
    with pytest.raises(IndexCorruptError):
        load_index(tmp_path / "nothing", encoder="hashing", dim=DIM)
    index, _, _ = filled("numpy", rng, n=10)
    save_index(index, tmp_path / "idx", encoder="hashing")
    manifest = json.loads((tmp_path / "idx" / "manifest.json").read_text())
    manifest["built_at"] = "2024-01-01T00:00:00"  # naive timestamp
    (tmp_path / "idx" / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(IndexCorruptError):
        load_index(tmp_path / "idx", encoder="hashing", dim=DIM)


@pytest.mark.parametrize(
    ("encoder", "dim", "backend"),
    [
        ("e5-small", DIM, None),
        ("hashing", DIM + 1, None),
        ("hashing", DIM, "faiss-flat"),
    ],
)
def test_manifest_mismatch_is_refused(
    encoder: str, dim: int, backend: str | None, rng: np.random.Generator, tmp_path: Path
) -> None:
    index, _, _ = filled("numpy", rng, n=10)
    save_index(index, tmp_path / "idx", encoder="hashing")
    with pytest.raises(ManifestMismatchError):
        load_index(tmp_path / "idx", encoder=encoder, dim=dim, backend=backend)


def test_hnsw_tombstones_and_rebuild(rng: np.random.Generator) -> None:
    index, ids, vectors = filled("faiss-hnsw", rng, n=400)
    index.remove([int(i) for i in ids[:150]])  # past a quarter: triggers a rebuild
    assert len(index) == 250
    result = index.search(vectors[200:201], 5)[0]
    assert int(result.ids[0]) == int(ids[200])
    assert set(result.ids.tolist()).isdisjoint(int(i) for i in ids[:150])


def test_unknown_backend() -> None:
    with pytest.raises(ValueError, match="unknown index backend"):
        create_index("annoy", DIM)


@pytest.mark.parametrize("scale", [1, 10**12])
def test_member_mask_agrees_with_set_membership(scale: int) -> None:
    """Both the bitmap (small database ids) and the sort-based path (huge ids) answer exactly."""
    rng = np.random.default_rng(7)
    ids = np.concatenate([rng.integers(0, 5000, 3000) * scale, [-1, -1]]).astype(np.int64)
    allowed = (rng.integers(0, 5000, 800) * scale).astype(np.int64)
    expected = [i in set(allowed.tolist()) for i in ids.tolist()]
    assert member_mask(ids, allowed).tolist() == expected
    assert not member_mask(ids, np.zeros(0, np.int64)).any()
    assert allowed_array({3, 5}).dtype == np.int64 and sorted(allowed_array({3, 5}).tolist()) == [3, 5]


@pytest.mark.parametrize("spacing", [1, 10**9])
def test_flat_filtered_search_with_bitmap_and_hash_selectors(spacing: int) -> None:
    """Dense database ids take the bitmap selector, sparse huge ids the hash set; both are exact."""
    rng = np.random.default_rng(3)
    ids = np.arange(1, 5001, dtype=np.int64) * spacing
    vectors = unit(rng, ids.size)
    index = create_index("faiss-flat", DIM)
    index.upsert(ids, vectors)
    chosen = np.sort(rng.choice(ids.size, size=4500, replace=False))
    query = unit(rng, 1)
    result = index.search(query, 10, allowed=ids[chosen])[0]
    exact = chosen[np.argsort(-(vectors[chosen] @ query[0]), kind="stable")[:10]]
    assert result.ids.tolist() == ids[exact].tolist()
