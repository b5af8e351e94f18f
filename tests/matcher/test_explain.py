"""Explanations: shared terms, best sentence, why-not flags; sentence splitting and dedup signals."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from matcher.dedup import jaccard, shingle_jaccard
from matcher.explain import best_sentence, build_explanation, flag_names, shared_terms, why_not_flags
from matcher.postings import Posting, Side
from matcher.tokenize import split_sentences


def idf(token: str) -> float:
    return 0.1 if token in {"方法", "method"} else 1.0


def test_split_sentences_chinese_and_english() -> None:
    text = "本发明提出一种方法。仿真结果表明效果好！是否可行？可以；\n精度提高3.5倍. We did it. Then more! Really?"
    assert split_sentences(text) == [
        "本发明提出一种方法。",
        "仿真结果表明效果好！",
        "是否可行？",
        "可以；",
        "精度提高3.5倍.",
        "We did it.",
        "Then more!",
        "Really?",
    ]


def test_shared_terms_prefers_long_distinctive_phrases() -> None:
    terms = shared_terms(
        "锂电池故障诊断方法 battery method", "一种锂电池故障诊断的方法，适用于battery储能。", idf
    )
    names = [t for t, _ in terms]
    assert names[0] == "锂电池故障诊断"
    assert "battery" in names and "method" not in names
    assert [w for _, w in terms] == sorted((w for _, w in terms), reverse=True)


def test_best_sentence_picks_the_covering_sentence() -> None:
    candidate = "本项目研究风力发电。我们提出锂电池故障诊断新方法。最后给出结论。"
    assert best_sentence("锂电池 故障", candidate, idf) == "我们提出锂电池故障诊断新方法。"
    assert best_sentence("量子计算", candidate, idf) == ""


def test_why_not_flags_either_order() -> None:
    need = Posting(
        id=1,
        side=Side.NEED,
        title="",
        body="",
        budget_max=Decimal(100),
        maturity=7,
        region_code="410100",
        modes=frozenset({"转让"}),
        field_code="F08",
    )
    ach = Posting(
        id=2,
        side=Side.ACHIEVEMENT,
        title="",
        body="",
        asking_price=Decimal(150),
        maturity=4,
        region_code="410200",  # Kaifeng: another city of the same province
        modes=frozenset({"许可"}),
        field_code="F09",
    )
    expected = ("over_budget", "less_mature_than_asked", "other_region", "mode_mismatch", "other_field")
    assert why_not_flags(need, ach) == why_not_flags(ach, need) == expected
    contracted = replace(ach, status="contracted")  # a candidate under contract is flagged, not hidden
    assert why_not_flags(need, contracted) == (*expected, "contracted")
    assert why_not_flags(contracted, need) == expected  # the query's own status is not a flag
    assert {*expected, "contracted"} == set(flag_names())
    fine = Posting(
        id=3,
        side=Side.ACHIEVEMENT,
        title="",
        body="",
        asking_price=Decimal(90),
        maturity=8,
        region_code="410105",  # a district of Zhengzhou: same city
        modes=frozenset({"转让"}),
        field_code="F08.12",
    )
    assert why_not_flags(need, fine) == ()
    assert why_not_flags(need, need) == ()
    explanation = build_explanation("q", "c", idf, {"dense": 0.5}, query=need, candidate=ach)
    assert explanation.flags == expected and explanation.to_dict()["components"] == {"dense": 0.5}


def test_jaccard_signals() -> None:
    assert jaccard(frozenset(), frozenset()) == 0.0
    assert shingle_jaccard("光伏组件清洗机器人", "光伏组件清洗机器人！") == 1.0
    assert shingle_jaccard("光伏组件清洗机器人", "玉米高产栽培技术") == 0.0
