"""The hybrid engine on Milvus Lite ranks the shared sets as the FAISS path does (CI's share of the
quality table; the full table is `evaluation/benchmarks/milvus_quality.py`)."""

from __future__ import annotations

import pytest

from evaluation.datasets import load_dataset
from evaluation.metrics import evaluate_rankings
from matcher.config import EngineConfig
from matcher.encoders import EncoderConfig, create_encoder
from matcher.engine import MatchEngine
from matcher.postings import Posting, Side
from tests.conftest import SHARED_DATA

QUERIES = 100


@pytest.mark.slow
@pytest.mark.parametrize("name", ["csl_dev_zh"])  # scifact (5,183 abstracts) takes minutes: full table only
def test_milvus_matches_faiss_ndcg_within_0_005(name: str) -> None:
    root = SHARED_DATA / name
    if not root.is_dir():
        pytest.skip(f"{root} not present")
    dataset = load_dataset(root, include_title=name == "scifact_en")
    queries = list(dataset.queries.items())[:QUERIES]
    encoder = create_encoder(EncoderConfig(name="hashing"))
    postings = [
        Posting(id=i, side=Side.ACHIEVEMENT, title="", body=t) for i, t in enumerate(dataset.doc_texts)
    ]
    vectors = encoder.encode_documents(list(dataset.doc_texts))
    ndcg: dict[str, float] = {}
    for backend in ("faiss-flat", "milvus"):
        engine = MatchEngine(encoder, EngineConfig.for_encoder("hashing", index_backend=backend))
        engine.upsert(postings, vectors=vectors)
        rankings = {
            qid: [
                dataset.doc_ids[h.id] for h in engine.search_text(Side.ACHIEVEMENT, text, k=10, explain=False)
            ]
            for qid, text in queries
        }
        ndcg[backend] = evaluate_rankings(rankings, dataset.qrels, [q for q, _ in queries]).mean()["nDCG@10"]
    assert ndcg["faiss-flat"] > 0.3  # a real ranking, not an empty one
    assert abs(ndcg["milvus"] - ndcg["faiss-flat"]) <= 0.005, ndcg
