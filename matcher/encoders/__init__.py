"""Text encoders behind one protocol (see `base`)."""

from matcher.encoders.base import (
    Encoder,
    EncoderConfig,
    EncoderError,
    FloatMatrix,
    as_unit_matrix,
    available_encoders,
    create_encoder,
    register_encoder,
)

__all__ = [
    "Encoder",
    "EncoderConfig",
    "EncoderError",
    "FloatMatrix",
    "as_unit_matrix",
    "available_encoders",
    "create_encoder",
    "register_encoder",
]
