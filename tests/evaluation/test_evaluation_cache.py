"""Embedding cache: keyed by encoder and content, reused on a second run, rows kept in order."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from evaluation.cache import cache_path, cached_vectors, content_hash, encode_in_batches
from matcher.encoders import FloatMatrix


class CountingEncoder:
    """Encodes a text as its length and a role marker (normalised), and counts calls."""

    name = "counting/v1"
    dim = 2

    def __init__(self) -> None:
        self.calls = 0

    def _encode(self, texts: Sequence[str], role: float) -> FloatMatrix:
        self.calls += 1
        m = np.array([[float(len(t)), role] for t in texts], dtype=np.float32)
        return np.asarray(m / np.linalg.norm(m, axis=1, keepdims=True), dtype=np.float32)

    def encode_documents(self, texts: Sequence[str]) -> FloatMatrix:
        return self._encode(texts, 1.0)

    def encode_queries(self, texts: Sequence[str]) -> FloatMatrix:
        return self._encode(texts, 2.0)


def test_hash_depends_on_name_texts_and_boundaries() -> None:
    assert content_hash("a", ["xy"]) != content_hash("b", ["xy"])
    assert content_hash("a", ["x", "y"]) != content_hash("a", ["xy"])
    assert content_hash("a", ["x"]) == content_hash("a", ["x"])


def test_second_call_reads_the_cache(tmp_path: Path) -> None:
    texts = ["a", "bbb", "cc"]
    encoder = CountingEncoder()
    first = cached_vectors(encoder, texts, tmp_path)
    calls = encoder.calls
    second = cached_vectors(encoder, texts, tmp_path)
    assert encoder.calls == calls and np.array_equal(first, second)
    assert cache_path(tmp_path, encoder.name, texts).is_file()
    assert "/" not in cache_path(tmp_path, encoder.name, texts).parent.name
    queries = cached_vectors(encoder, texts, tmp_path, role="query")
    assert not np.array_equal(queries, first)  # roles are cached apart


def test_wrong_shape_cache_is_recomputed(tmp_path: Path) -> None:
    texts = ["a", "bb"]
    path = cache_path(tmp_path, CountingEncoder.name, texts)
    path.parent.mkdir(parents=True)
    np.save(path, np.zeros((5, 2), dtype=np.float32))
    encoder = CountingEncoder()
    assert cached_vectors(encoder, texts, tmp_path).shape == (2, 2) and encoder.calls > 0


def test_batches_are_length_sorted_but_rows_keep_input_order() -> None:
    texts = ["dddd", "a", "ccc", "bb", "eeeee"]
    encoder = CountingEncoder()
    matrix = encode_in_batches(encoder.encode_documents, texts, batch_size=2)
    assert np.allclose(matrix, encoder.encode_documents(texts))


def test_chunks_are_cached_apart_so_an_interrupted_run_resumes(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr("evaluation.cache.CHUNK_SIZE", 2)
    texts = ["a", "bb", "ccc", "dddd", "eeeee"]
    encoder = CountingEncoder()
    cached_vectors(encoder, texts[:4], tmp_path)  # two full chunks
    calls = encoder.calls
    matrix = cached_vectors(encoder, texts, tmp_path)  # only the last chunk is new
    assert encoder.calls == calls + 1
    assert np.allclose(matrix, encoder.encode_documents(texts))


def test_worker_processes_give_the_same_vectors_as_one_process(tmp_path: Path, monkeypatch) -> None:
    from matcher.encoders import EncoderConfig, create_encoder

    monkeypatch.setattr("evaluation.cache.CHUNK_SIZE", 3)
    texts = [f"太阳能电池 {i} solar cell number {i}" for i in range(10)]
    encoder = create_encoder(EncoderConfig(name="hashing"))
    serial = cached_vectors(encoder, texts, None)
    pooled = cached_vectors(encoder, texts, tmp_path, workers=2, worker_config=EncoderConfig(name="hashing"))
    assert np.allclose(serial, pooled)
    assert len(list((tmp_path / "hashing").glob("*.npy"))) == 4  # every chunk cached
