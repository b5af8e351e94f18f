"""MatchEngine end to end with the hashing encoder."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, replace
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest

from matcher.config import EngineConfig
from matcher.dedup import DuplicateFlag
from matcher.encoders.hashing import HashingEncoder
from matcher.engine import MatchEngine
from matcher.filters import PostingFilter
from matcher.index import IndexCorruptError, ManifestMismatchError
from matcher.postings import Posting, Side

Factory = Callable[..., MatchEngine]
BACKENDS_AND_FUSIONS = [
    ("numpy", "rrf"),
    ("faiss-flat", "weighted"),
    ("faiss-hnsw", "rrf"),
    ("milvus", "weighted"),
]


def topic_of(posting_id: int) -> int:
    return posting_id // 10


@pytest.mark.parametrize(("backend", "fusion"), BACKENDS_AND_FUSIONS)
def test_both_directions_find_the_same_topic(
    engine_factory: Factory, n_topics: int, backend: str, fusion: str
) -> None:
    engine = engine_factory(index_backend=backend, fusion=fusion)
    assert engine.counts() == {"need": n_topics, "achievement": 3 * n_topics}
    for topic in range(n_topics):
        need = engine.collection(Side.NEED).postings[topic * 10]
        suggestions = engine.suggest(need, k=3)
        assert [topic_of(s.id) for s in suggestions] == [topic] * 3
        assert [s.rank for s in suggestions] == [1, 2, 3]
        assert suggestions[0].score >= suggestions[1].score >= suggestions[2].score
        achievement = engine.collection(Side.ACHIEVEMENT).postings[topic * 10 + 1]
        assert topic_of(engine.suggest(achievement, k=1)[0].id) == topic


def test_explanations_and_components(engine_factory: Factory) -> None:
    engine = engine_factory()
    need = engine.collection(Side.NEED).postings[0]
    top = engine.suggest(need, k=3)
    for s in top:
        assert {"dense", "lexical", "fused", "field_match", "region_match"} <= set(s.components)
        assert s.explanation.components == s.components
        assert s.explanation.shared_terms and s.explanation.best_sentence
    terms = [t for t, _ in top[0].explanation.shared_terms]
    assert any("锂电池" in t or "故障诊断" in t for t in terms)
    flags = {s.id: s.explanation.flags for s in top}
    # achievement 2 asks 300,000 against a 250,000 budget; achievement 0 has maturity 3 < 5 asked
    assert "over_budget" in flags[2] and "less_mature_than_asked" in flags[0]
    assert "other_region" in flags[1] and "other_region" not in flags[0]
    assert "mode_mismatch" in flags[2] and "mode_mismatch" not in flags[0]
    assert top[0].explanation.to_dict()["flags"] == list(top[0].explanation.flags)


@pytest.mark.parametrize(("backend", "fusion"), BACKENDS_AND_FUSIONS)
def test_filters_return_k_even_when_unfiltered_top_k_is_ineligible(
    engine_factory: Factory, backend: str, fusion: str
) -> None:
    engine = engine_factory(index_backend=backend, fusion=fusion)
    need = engine.collection(Side.NEED).postings[0]
    unfiltered = {s.id for s in engine.suggest(need, k=3)}
    flt = PostingFilter(exclude_ids=frozenset(unfiltered))
    filtered = engine.suggest(need, k=5, filters=flt)
    assert len(filtered) == 5 and unfiltered.isdisjoint(s.id for s in filtered)
    # reverse direction: only needs of other topics are eligible
    achievement = engine.collection(Side.ACHIEVEMENT).postings[0]
    reverse = engine.suggest(achievement, k=4, filters=PostingFilter(exclude_ids=frozenset({0})))
    assert len(reverse) == 4 and 0 not in {s.id for s in reverse}


def test_natural_filter_and_empty_allowed_set(engine_factory: Factory) -> None:
    engine = engine_factory()
    need = engine.collection(Side.NEED).postings[30]
    allowed = engine.suggest(need, k=10, filters=PostingFilter.for_counterparts(need))
    achievements = engine.collection(Side.ACHIEVEMENT).postings
    assert allowed, "some achievements are affordable and share a mode"
    for s in allowed:
        a = achievements[s.id]
        assert a.asking_price is not None and a.asking_price <= Decimal(250_000)
        assert a.modes & need.modes and (a.maturity or 9) >= 5
    assert engine.suggest(need, k=10, filters=PostingFilter(field_codes=frozenset({"99"}))) == []


def test_search_text_and_precomputed_vectors(encoder: HashingEncoder, corpus: list[Posting]) -> None:
    engine = MatchEngine(encoder, EngineConfig(index_backend="numpy"))
    texts = [engine.text_of(p) for p in corpus]
    engine.upsert(corpus, vectors=encoder.encode_documents(texts))
    hits = engine.search_text("achievement", "污水 生物脱氮", k=3, explain=False)
    assert [topic_of(h.id) for h in hits] == [3, 3, 3]
    query = encoder.encode_queries(["污水 生物脱氮"])
    again = engine.search_text(Side.ACHIEVEMENT, "污水 生物脱氮", k=3, query_vector=query)
    assert [h.id for h in again] == [h.id for h in hits]
    with pytest.raises(ValueError):
        engine.upsert(corpus[:2], vectors=np.zeros((3, encoder.dim), dtype=np.float32))


def test_update_and_remove(engine_factory: Factory, n_topics: int) -> None:
    engine = engine_factory()
    moved = replace(
        engine.collection(Side.ACHIEVEMENT).postings[1], title="污水生物处理", body="厌氧氨氧化脱氮"
    )
    engine.upsert([moved])
    assert engine.counts()["achievement"] == 3 * n_topics
    assert 1 in {s.id for s in engine.search_text("achievement", "厌氧氨氧化 污水 脱氮", k=4)}
    engine.remove("achievement", [1, 999])
    assert 1 not in {s.id for s in engine.search_text("achievement", "厌氧氨氧化 污水 脱氮", k=10)}
    assert engine.counts()["achievement"] == 3 * n_topics - 1


def test_find_duplicates(engine_factory: Factory, posting_maker: Callable[..., Posting]) -> None:
    engine = engine_factory()
    repost = posting_maker(Side.ACHIEVEMENT, 500, 2, 0, org_id=1000)
    flags = engine.find_duplicates(repost)
    assert flags and flags[0].existing_id == 20 and flags[0].same_org
    assert flags[0].cosine >= 0.9 and flags[0].jaccard >= 0.6
    copied = posting_maker(Side.ACHIEVEMENT, 501, 2, 0, org_id=4242)
    assert not engine.find_duplicates(copied)[0].same_org
    unrelated = Posting(id=502, side=Side.ACHIEVEMENT, title="区块链溯源", body="农产品区块链溯源平台。")
    assert engine.find_duplicates(unrelated) == []
    assert all(
        f.existing_id != 20 for f in engine.find_duplicates(engine.collection("achievement").postings[20])
    )


def test_find_duplicates_many_checks_the_index_and_the_batch_itself(
    engine_factory: Factory, posting_maker: Callable[..., Posting]
) -> None:
    engine = engine_factory()
    repost = posting_maker(Side.ACHIEVEMENT, 500, 2, 0, org_id=1000)
    twin = posting_maker(Side.ACHIEVEMENT, 501, 2, 0, org_id=4242)
    need = posting_maker(Side.NEED, 502, 2, 0)
    unrelated = Posting(id=503, side=Side.ACHIEVEMENT, title="区块链溯源", body="农产品区块链溯源平台。")
    flags = engine.find_duplicates_many([repost, twin, need, unrelated])
    assert [f.existing_id for f in flags[0]] == engine_ids(engine.find_duplicates(repost))
    # the twin repeats what the repost repeats, plus the batch's own earlier row 500
    assert 20 in engine_ids(flags[0])
    assert set(engine_ids(flags[1])) == {*engine_ids(flags[0]), 500}
    assert next(f for f in flags[1] if f.existing_id == 500).same_org is False
    assert all(f.side == "need" for f in flags[2])
    assert flags[3] == []
    assert engine.find_duplicates_many([]) == []
    assert all(f.to_dict() == asdict(f) for found in flags for f in found)  # the stored form


def engine_ids(flags: list[DuplicateFlag]) -> list[int]:
    return [f.existing_id for f in flags]


def test_save_load_round_trip_and_refusals(engine_factory: Factory, tmp_path: Path) -> None:
    engine = engine_factory(index_backend="faiss-flat")
    engine.remove("achievement", [0])
    engine.save(tmp_path / "engine")
    loaded = MatchEngine.load(tmp_path / "engine", engine.encoder, engine.config)
    assert loaded.counts() == engine.counts() and loaded.engine_version == engine.engine_version
    need = engine.collection(Side.NEED).postings[0]
    assert [s.id for s in loaded.suggest(need, k=5)] == [s.id for s in engine.suggest(need, k=5)]
    assert loaded.collection("achievement").postings[1] == engine.collection("achievement").postings[1]
    with pytest.raises(ManifestMismatchError):
        MatchEngine.load(tmp_path / "engine", HashingEncoder(dim=256), engine.config)
    with pytest.raises(ManifestMismatchError):
        MatchEngine.load(tmp_path / "engine", engine.encoder, replace(engine.config, index_backend="numpy"))
    postings_file = tmp_path / "engine" / "achievement.jsonl"
    postings_file.write_text(
        postings_file.read_text(encoding="utf-8").replace("光伏", "风电"), encoding="utf-8"
    )
    with pytest.raises(IndexCorruptError):
        MatchEngine.load(tmp_path / "engine", engine.encoder, engine.config)


def test_engine_version_tracks_config(encoder: HashingEncoder) -> None:
    a = MatchEngine(encoder, EngineConfig())
    b = MatchEngine(encoder, EngineConfig(dense_weight=0.25))
    assert a.engine_version.startswith("hashing@") and a.engine_version != b.engine_version
    assert EngineConfig.from_dict(b.config.to_dict()) == b.config
    assert EngineConfig.for_encoder("use-m3").dense_weight == 0.4
    assert EngineConfig.for_encoder("e5-small") == EngineConfig()
    assert EngineConfig.for_encoder("use-m3", index_backend="numpy").index_backend == "numpy"
    with pytest.raises(ValueError):
        EngineConfig(dense_weight=0.0, lexical_weight=0.0)


def test_empty_engine_returns_nothing(encoder: HashingEncoder, posting_maker: Callable[..., Posting]) -> None:
    engine = MatchEngine(encoder, EngineConfig(index_backend="numpy"))
    assert engine.search_text("need", "任何文本", k=5) == []
    assert engine.find_duplicates(posting_maker(Side.NEED, 1, 0, 0)) == []
