"""On-disk cache of corpus embeddings, keyed by encoder name and a hash of the embedded texts.

Embedding a corpus is the slow part of an evaluation run (minutes for long abstracts); ranking is
seconds. A second run over the same texts with the same encoder loads the matrix instead.
"""

from __future__ import annotations

import hashlib
import logging
import multiprocessing
import os
import re
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any, Literal

import numpy as np
from tqdm import tqdm

from matcher.encoders import Encoder, EncoderConfig, FloatMatrix, create_encoder

logger = logging.getLogger(__name__)

DEFAULT_CACHE_DIR = Path("~/.cache/techmatch/embeddings")
BATCH_SIZE = 64
CHUNK_SIZE = 512


def content_hash(encoder_name: str, texts: Sequence[str]) -> str:
    """SHA-256 over the encoder name and every text (length-prefixed, so boundaries count)."""
    digest = hashlib.sha256()
    digest.update(encoder_name.encode("utf-8"))
    for text in texts:
        raw = text.encode("utf-8")
        digest.update(len(raw).to_bytes(8, "little"))
        digest.update(raw)
    return digest.hexdigest()


def cache_path(cache_dir: Path, encoder_name: str, texts: Sequence[str]) -> Path:
    """Where the matrix for these texts lives: ``<dir>/<key>/<hash>.npy`` (key: encoder name, role)."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", encoder_name).strip("_") or "encoder"
    return cache_dir.expanduser() / safe / f"{content_hash(encoder_name, texts)}.npy"


def _encode_sorted(
    encode: Callable[[Sequence[str]], FloatMatrix], texts: Sequence[str], batch_size: int, bar: Any
) -> FloatMatrix:
    """Encode in batches of similar length (less padding); rows come back in the order of ``texts``."""
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    parts: list[FloatMatrix] = []
    for start in range(0, len(order), batch_size):
        batch = [texts[i] for i in order[start : start + batch_size]]
        parts.append(encode(batch))
        bar.update(len(batch))
    sorted_rows = np.concatenate(parts)
    matrix = np.empty_like(sorted_rows, dtype=np.float32)
    matrix[np.asarray(order, dtype=np.int64)] = sorted_rows
    return np.ascontiguousarray(matrix)


def encode_in_batches(
    encode: Callable[[Sequence[str]], FloatMatrix],
    texts: Sequence[str],
    *,
    batch_size: int = BATCH_SIZE,
    desc: str = "encode",
) -> FloatMatrix:
    """Encode texts in length-sorted batches with a progress bar on stderr; rows keep the input order."""
    if not texts:
        raise ValueError("nothing to encode")
    with tqdm(total=len(texts), desc=desc, unit="text", leave=False) as bar:
        return _encode_sorted(encode, texts, batch_size, bar)


Role = Literal["query", "document"]
Chunk = tuple[int, Sequence[str]]


def cached_vectors(
    encoder: Encoder,
    texts: Sequence[str],
    cache_dir: Path | None,
    *,
    role: Role = "document",
    workers: int = 1,
    worker_config: EncoderConfig | None = None,
) -> FloatMatrix:
    """Embeddings of ``texts`` in a role, chunk by chunk from the cache, computing what is missing.

    Each chunk of ``CHUNK_SIZE`` consecutive texts is cached on its own, so an interrupted run resumes
    where it stopped. ``cache_dir=None`` disables the cache. With ``workers > 1`` and a
    ``worker_config`` (how to rebuild the encoder), missing chunks are encoded in that many processes:
    the bundled encoders use about one core each, so this is what makes a 2-core machine twice as fast.
    """
    if not texts:
        raise ValueError("nothing to encode")
    key = encoder.name if role == "document" else f"{encoder.name}|query"
    matrices: dict[int, FloatMatrix] = {}
    missing: list[Chunk] = []
    with tqdm(total=len(texts), desc=f"embed {role} texts ({encoder.name})", unit="text", leave=False) as bar:
        for start in range(0, len(texts), CHUNK_SIZE):
            chunk = texts[start : start + CHUNK_SIZE]
            cached = (
                None
                if cache_dir is None
                else _load(cache_path(cache_dir, key, chunk), (len(chunk), encoder.dim))
            )
            if cached is None:
                missing.append((start, chunk))
            else:
                matrices[start] = cached
                bar.update(len(chunk))
        loaded = len(texts) - sum(len(chunk) for _, chunk in missing)
        pool_config = worker_config if workers > 1 and len(missing) > 1 else None
        for start, matrix in _encode_chunks(encoder, role, missing, bar, workers, pool_config):
            if cache_dir is not None:
                _save_atomically(cache_path(cache_dir, key, texts[start : start + CHUNK_SIZE]), matrix)
            matrices[start] = matrix
    logger.info("%s: %d of %d %s embeddings came from the cache", encoder.name, loaded, len(texts), role)
    return np.ascontiguousarray(np.concatenate([matrices[s] for s in sorted(matrices)]), dtype=np.float32)


def _encode_chunks(
    encoder: Encoder, role: Role, chunks: list[Chunk], bar: Any, workers: int, config: EncoderConfig | None
) -> Iterator[tuple[int, FloatMatrix]]:
    """Yield (start, matrix) per chunk as each is done: in this process, or in a spawned pool."""
    if config is None:
        encode = encoder.encode_documents if role == "document" else encoder.encode_queries
        for start, chunk in chunks:
            yield start, _encode_sorted(encode, chunk, BATCH_SIZE, bar)
        return
    context = multiprocessing.get_context("spawn")  # no fork: the parent holds threads and native libraries
    with ProcessPoolExecutor(
        workers, mp_context=context, initializer=_init_worker, initargs=(config,)
    ) as pool:
        futures = {
            pool.submit(_encode_chunk, role, list(chunk)): (start, len(chunk)) for start, chunk in chunks
        }
        for future in as_completed(futures):
            start, size = futures[future]
            bar.update(size)
            yield start, future.result()


_worker_encoder: Encoder | None = None


def _init_worker(config: EncoderConfig) -> None:
    """Build the encoder once per worker process."""
    global _worker_encoder
    _worker_encoder = create_encoder(config)


def _encode_chunk(role: Role, texts: list[str]) -> FloatMatrix:
    """Worker side of `_encode_chunks`."""
    assert _worker_encoder is not None, "worker not initialised"
    encode = _worker_encoder.encode_documents if role == "document" else _worker_encoder.encode_queries
    return _encode_sorted(encode, texts, BATCH_SIZE, _NoBar())


class _NoBar:
    """Progress is shown by the parent process only."""

    def update(self, _: int) -> None:
        return None


def _load(path: Path, shape: tuple[int, int]) -> FloatMatrix | None:
    """A cached matrix of the expected shape, or None (missing, unreadable or wrong shape)."""
    if not path.is_file():
        return None
    try:
        matrix = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        logger.warning("ignoring unreadable embedding cache %s: %s", path, exc)
        return None
    if matrix.shape != shape:
        logger.warning("ignoring embedding cache %s of shape %s", path, matrix.shape)
        return None
    return np.ascontiguousarray(matrix, dtype=np.float32)


def _save_atomically(path: Path, matrix: FloatMatrix) -> None:
    """Write to a temporary file and rename, so an interrupted run never leaves half a matrix."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp.npy")
    np.save(tmp, matrix, allow_pickle=False)
    os.replace(tmp, path)
    logger.debug("cached %d embeddings in %s", matrix.shape[0], path)
