"""A deterministic hashing encoder: no model, no download, fast. Used by tests and as a fallback.

Tokens (CJK character uni+bigrams, English words) are hashed into ``dim`` buckets with a sign bit
(the "hashing trick"), weighted by ``1 + ln(tf)``, and L2-normalised. Texts sharing many tokens get a
high cosine, which is all the tests need; it is not a semantic model.
"""

from __future__ import annotations

import hashlib
import math
from collections import Counter
from collections.abc import Sequence

import numpy as np

from matcher.encoders.base import FloatMatrix, as_unit_matrix
from matcher.tokenize import cjk_bigram_tokens

__all__ = ["HashingEncoder"]


class HashingEncoder:
    """Signed feature hashing of lexical tokens into a fixed-size unit vector."""

    def __init__(self, dim: int = 512) -> None:
        if dim < 2:
            raise ValueError("dim must be at least 2")
        self.dim = dim
        self.name = "hashing" if dim == 512 else f"hashing-{dim}"
        self._bucket_cache: dict[str, tuple[int, float]] = {}

    def encode_queries(self, texts: Sequence[str]) -> FloatMatrix:
        """Queries and documents are embedded the same way."""
        return self._encode(texts)

    def encode_documents(self, texts: Sequence[str]) -> FloatMatrix:
        """Queries and documents are embedded the same way."""
        return self._encode(texts)

    def _encode(self, texts: Sequence[str]) -> FloatMatrix:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            counts = Counter(cjk_bigram_tokens(text))
            if not counts:
                out[row, 0] = 1.0  # keep the unit-length contract for empty text
                continue
            for token, tf in counts.items():
                bucket, sign = self._bucket(token)
                out[row, bucket] += sign * (1.0 + math.log(tf))
        return as_unit_matrix(out, dim=self.dim)

    def _bucket(self, token: str) -> tuple[int, float]:
        cached = self._bucket_cache.get(token)
        if cached is None:
            digest = int.from_bytes(hashlib.blake2b(token.encode("utf-8"), digest_size=8).digest(), "little")
            cached = (digest % self.dim, 1.0 if (digest >> 63) & 1 else -1.0)
            if len(self._bucket_cache) < 1_000_000:
                self._bucket_cache[token] = cached
        return cached
