"""Any sentence-transformers model from a LOCAL directory (``st:/path/to/model``).

The hub is unreachable here, and a hub name would make transformers retry for about a minute before
failing, so anything that is not an existing directory is refused at once. Offline mode is switched
on before the library is imported so that nothing tries the network.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from matcher.encoders.base import EncoderConfig, EncoderError, FloatMatrix, as_unit_matrix

__all__ = ["SentenceTransformerEncoder"]


class SentenceTransformerEncoder:
    """A sentence-transformers model on CPU; query/document prompts default to the ones saved with it."""

    def __init__(
        self,
        config: EncoderConfig,
        model_path: str | Path,
        *,
        query_prompt: str | None = None,
        document_prompt: str | None = None,
    ) -> None:
        path = Path(model_path).expanduser()
        if not path.is_dir():
            raise EncoderError(
                f"sentence-transformers model {str(model_path)!r} is not a local directory; "
                "models cannot be downloaded here, so pass the path of a saved model (st:/path/to/model)"
            )
        self._model = _load_model(path, threads=max(1, config.threads))
        self._batch_size = max(1, config.batch_size)
        saved: dict[str, str] = dict(getattr(self._model, "prompts", None) or {})
        # a model saved with prompts (a tuned e5: "query: " / "passage: ") is used as it was trained
        self._query_prompt = saved.get("query", "") if query_prompt is None else query_prompt
        self._document_prompt = (
            saved.get("document", saved.get("passage", "")) if document_prompt is None else document_prompt
        )
        self.name = f"st:{model_path}"  # the configured name, so manifests match `EncoderConfig.name`
        dimension = getattr(
            self._model, "get_embedding_dimension", None
        )  # renamed in sentence-transformers 6
        if dimension is None:
            dimension = self._model.get_sentence_embedding_dimension
        self.dim: int = int(dimension() or 0)
        if self.dim <= 0:
            raise EncoderError(f"model at {path} does not declare an embedding dimension")

    def encode_queries(self, texts: Sequence[str]) -> FloatMatrix:
        """Embed queries (with the query prompt, if any)."""
        return self._encode([self._query_prompt + t for t in texts])

    def encode_documents(self, texts: Sequence[str]) -> FloatMatrix:
        """Embed documents (with the document prompt, if any)."""
        return self._encode([self._document_prompt + t for t in texts])

    def _encode(self, texts: list[str]) -> FloatMatrix:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        matrix = self._model.encode(
            texts,
            batch_size=self._batch_size,
            convert_to_numpy=True,
            normalize_embeddings=True,
            show_progress_bar=False,
        )
        return as_unit_matrix(matrix, dim=self.dim)


def _load_model(path: Path, *, threads: int) -> Any:
    """Import sentence-transformers in offline mode and load the model on CPU."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    try:
        import torch
        from sentence_transformers import SentenceTransformer
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise EncoderError(
            "st:<path> needs sentence-transformers and torch: pip install sentence-transformers torch==2.13.0"
        ) from exc
    torch.set_num_threads(threads)
    try:
        return SentenceTransformer(str(path), device="cpu", local_files_only=True)
    except Exception as exc:
        raise EncoderError(f"could not load sentence-transformers model from {path}: {exc}") from exc
