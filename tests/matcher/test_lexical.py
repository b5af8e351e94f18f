"""BM25 index: checked against a brute-force re-implementation (R15), through updates and removals."""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pytest

from matcher.lexical import BM25Index, BM25Params
from matcher.tokenize import cjk_bigram_tokens, cjk_pair_tokens, is_cjk

WORDS = [
    "电池",
    "储能",
    "光伏",
    "清洗",
    "玉米",
    "栽培",
    "污水",
    "处理",
    "机床",
    "误差",
    "solar",
    "battery",
    "cell",
]


def brute_force(docs: dict[int, list[str]], query: list[str], params: BM25Params) -> dict[int, float]:
    """Textbook BM25 (Lucene idf) over every document, one term occurrence at a time."""
    n = len(docs)
    avgdl = sum(len(t) for t in docs.values()) / n
    df = Counter(term for tokens in docs.values() for term in set(tokens))
    scores = {}
    for doc_id, tokens in docs.items():
        tf = Counter(tokens)
        score = 0.0
        for term in query:
            if tf[term] == 0:
                continue
            idf = math.log(1 + (n - df[term] + 0.5) / (df[term] + 0.5))
            norm = params.k1 * (1 - params.b + params.b * len(tokens) / avgdl)
            score += idf * tf[term] * (params.k1 + 1) / (tf[term] + norm)
        if score > 0:
            scores[doc_id] = score
    return scores


def random_doc(rng: np.random.Generator) -> list[str]:
    return [WORDS[i] for i in rng.integers(0, len(WORDS), size=int(rng.integers(1, 15)))]


def assert_matches_brute_force(index: BM25Index, docs: dict[int, list[str]], query: list[str]) -> None:
    expected = brute_force(docs, query, index.params)
    ids, scores = index.scores(query)
    got = dict(zip(ids.tolist(), scores.tolist(), strict=True))
    assert got.keys() == expected.keys()
    for doc_id, score in expected.items():
        assert got[doc_id] == pytest.approx(score, rel=1e-9)
    top = index.search(query, 5)
    ranked = sorted(expected.items(), key=lambda kv: (-kv[1], kv[0]))[:5]
    assert [h.id for h in top] == [doc_id for doc_id, _ in ranked]


def test_scores_equal_brute_force_through_updates(rng: np.random.Generator) -> None:
    index = BM25Index(tokenizer=lambda text: text.split(), min_compact=8)
    docs: dict[int, list[str]] = {}
    for step in range(120):
        doc_id = int(rng.integers(0, 40))
        if step % 7 == 3 and docs:
            victim = sorted(docs)[int(rng.integers(0, len(docs)))]
            index.remove([victim])
            docs.pop(victim)
        else:
            docs[doc_id] = random_doc(rng)
            index.upsert_tokens(doc_id, docs[doc_id])
        if step % 10 == 9:
            query = [WORDS[i] for i in rng.integers(0, len(WORDS), size=3)]
            assert_matches_brute_force(index, docs, query)
    assert len(index) == len(docs)
    assert sorted(index.ids()) == sorted(docs)


def test_search_restricted_to_allowed_ids(rng: np.random.Generator) -> None:
    index = BM25Index(tokenizer=lambda text: text.split())
    docs = {i: [*random_doc(rng), "电池"] for i in range(50)}
    for doc_id, tokens in docs.items():
        index.upsert_tokens(doc_id, tokens)
    allowed = {3, 17, 29, 41}
    hits = index.search(["电池", "光伏"], k=10, allowed=allowed)
    assert {h.id for h in hits} == allowed  # every allowed doc contains 电池, so all four score > 0
    expected = brute_force(docs, ["电池", "光伏"], index.params)
    assert [h.id for h in hits] == sorted(allowed, key=lambda i: (-expected[i], i))


def test_chinese_text_is_matched_by_characters() -> None:
    index = BM25Index()
    index.upsert(1, "一种锂电池储能系统的故障诊断方法")
    index.upsert(2, "玉米高产栽培技术")
    index.upsert(3, "Solar cell cleaning robot")
    assert index.search("锂电池故障", 3)[0].id == 1
    assert index.search("solar cells cleaning", 3)[0].id == 3
    assert index.search("哈哈哈", 3) == []
    assert index.idf("电池") > index.idf("不存在的词") == 0.0


def test_update_replaces_old_text() -> None:
    index = BM25Index()
    index.upsert(1, "光伏组件清洗")
    index.upsert(2, "数控机床")
    index.upsert(1, "污水处理工艺")
    assert [h.id for h in index.search("光伏", 5)] == []
    assert index.search("污水", 5)[0].id == 1
    index.remove([1, 99])
    assert 1 not in index and len(index) == 1


def test_tokenizer_shapes() -> None:
    tokens = cjk_bigram_tokens("锂电池 Battery-Pack 2024")
    assert {"锂", "电", "池", "锂电", "电池", "battery", "pack", "2024"} == set(tokens)
    assert "the" not in cjk_bigram_tokens("the battery")


@pytest.mark.parametrize(
    "text", ["锂电池 Battery-Pack 2024", "the 光伏组件！清洗机器人。", "氢", "ＡＢＣ１２３，全角文字", ""]
)
def test_pair_tokens_are_the_bigram_tokens_without_single_characters(text: str) -> None:
    expected = {t for t in cjk_bigram_tokens(text) if not (len(t) == 1 and is_cjk(t))}
    assert cjk_pair_tokens(text) == expected


def test_score_all_serves_lookups_and_top_k(rng: np.random.Generator) -> None:
    index = BM25Index(tokenizer=lambda text: text.split())
    docs = {i: random_doc(rng) for i in range(30)}
    for doc_id, tokens in docs.items():
        index.upsert_tokens(doc_id, tokens)
    index.remove([4])
    docs.pop(4)
    query = ["电池", "光伏", "solar"]
    expected = brute_force(docs, query, index.params)
    scores = index.score_all(query)
    looked_up = scores.get([0, 4, 7, 12345])
    assert looked_up[4] == 0.0 and looked_up[12345] == 0.0
    for doc_id in (0, 7):
        assert looked_up[doc_id] == pytest.approx(expected.get(doc_id, 0.0))
    assert [h.id for h in scores.top(3)] == [h.id for h in index.search(query, 3)]


@pytest.mark.parametrize("k", [1, 10, 100])
def test_pruned_top_k_equals_the_full_ranking(k: int) -> None:
    """MaxScore pruning (a few thousand documents, Zipf-like vocabulary: some terms in nearly every
    document, most in few) returns exactly the top-k of a full scoring, with and without a filter."""
    rng = np.random.default_rng(11)
    vocab = [f"t{i}" for i in range(400)]
    weights = 1.0 / np.arange(1, len(vocab) + 1)
    weights /= weights.sum()
    docs = {
        i: [vocab[j] for j in rng.choice(len(vocab), size=int(rng.integers(20, 60)), p=weights)]
        for i in range(3000)
    }
    index = BM25Index(tokenizer=lambda text: text.split())
    for doc_id, tokens in docs.items():
        index.upsert_tokens(doc_id, tokens)
    allowed = {i for i in docs if i % 3}
    for _ in range(10):
        query = [vocab[j] for j in rng.choice(len(vocab), size=30, p=weights)]
        expected = brute_force(docs, query, index.params)
        for subset in (None, allowed):
            ranked = sorted(
                ((d, s) for d, s in expected.items() if subset is None or d in subset),
                key=lambda kv: (-kv[1], kv[0]),
            )[:k]
            hits = index.score_all(query).top(k, subset)
            assert [h.id for h in hits] == [d for d, _ in ranked]
            assert [h.score for h in hits] == pytest.approx([s for _, s in ranked], rel=1e-9)
