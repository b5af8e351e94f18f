"""Quality floor on a real Chinese set (slow: reads ../shared/data; skipped when it is absent)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from matcher.lexical import BM25Index

DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "csl_dev_zh"


@pytest.mark.slow
@pytest.mark.parametrize(("tokenizer", "floor"), [("cjk-bigram", 0.95), ("jieba", 0.93)])
def test_bm25_on_csl_keywords(tokenizer: str, floor: float) -> None:
    if not (DATA / "corpus.jsonl").exists():
        pytest.skip("shared/data/csl_dev_zh not present")
    docs = [json.loads(line) for line in (DATA / "corpus.jsonl").read_text(encoding="utf-8").splitlines()]
    queries = [
        json.loads(line)
        for line in (DATA / "queries_keywords.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    qrels = dict(line.split("\t")[:2] for line in (DATA / "qrels_keywords.tsv").read_text().splitlines()[1:])
    index = BM25Index(tokenizer)
    index.upsert_many((i, d["text"]) for i, d in enumerate(docs))
    gains = []
    for query in queries[:300]:
        ranked = [docs[h.id]["id"] for h in index.search(query["text"], 10)]
        gold = qrels[query["id"]]
        gains.append(next((1 / math.log2(r + 2) for r, d in enumerate(ranked) if d == gold), 0.0))
    assert sum(gains) / len(gains) >= floor
