"""The encoder seam: one protocol, one registry, lazy factories.

Every encoder returns C-contiguous float32 matrices with unit-length rows, so that an
inner-product index computes cosine similarity.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

FloatMatrix = npt.NDArray[np.float32]


class EncoderError(RuntimeError):
    """An encoder could not be created or used (unknown name, missing model, bad input)."""


@dataclass(frozen=True)
class EncoderConfig:
    """How to build an encoder. Read from settings at the edge, never from the environment here."""

    name: str = "hashing"
    threads: int = 1
    batch_size: int = 32
    cache_dir: Path | None = None


@runtime_checkable
class Encoder(Protocol):
    """Turns texts into unit-length float32 vectors; queries and documents may be embedded differently."""

    name: str
    dim: int

    def encode_queries(self, texts: Sequence[str]) -> FloatMatrix: ...

    def encode_documents(self, texts: Sequence[str]) -> FloatMatrix: ...


EncoderFactory = Callable[[EncoderConfig], Encoder]

_FACTORIES: dict[str, EncoderFactory] = {}
_PREFIX_FACTORIES: dict[str, EncoderFactory] = {}


def register_encoder(name: str, factory: EncoderFactory, *, prefix: bool = False) -> None:
    """Register a factory under an exact name, or under a prefix such as ``st:``."""
    (_PREFIX_FACTORIES if prefix else _FACTORIES)[name] = factory


def available_encoders() -> list[str]:
    """Names and prefixes that `create_encoder` accepts."""
    _load_builtins()
    return sorted(_FACTORIES) + [f"{p}<path>" for p in sorted(_PREFIX_FACTORIES)]


def create_encoder(config: EncoderConfig) -> Encoder:
    """Build the encoder named in ``config``; unknown names fail with the list of known ones."""
    _load_builtins()
    if config.name in _FACTORIES:
        return _FACTORIES[config.name](config)
    for prefix, factory in _PREFIX_FACTORIES.items():
        if config.name.startswith(prefix):
            return factory(config)
    raise EncoderError(f"unknown encoder {config.name!r}; known: {', '.join(available_encoders())}")


def as_unit_matrix(x: npt.ArrayLike, *, dim: int) -> FloatMatrix:
    """Return a C-contiguous float32 (n, dim) array with L2-normalised rows."""
    m = np.ascontiguousarray(x, dtype=np.float32)
    if m.ndim != 2 or m.shape[1] != dim:
        raise EncoderError(f"expected an (n, {dim}) matrix, got {m.shape}")
    norms = np.linalg.norm(m, axis=1, keepdims=True)
    return np.ascontiguousarray(m / np.maximum(norms, 1e-12), dtype=np.float32)


_builtins_loaded = False


def _load_builtins() -> None:
    """Import the built-in encoder modules; each registers itself. Heavy imports stay inside factories."""
    global _builtins_loaded
    if _builtins_loaded:
        return
    _builtins_loaded = True
    from matcher.encoders import builtin  # noqa: F401  (registers on import)
