"""Why a suggestion was made (and what might stop it), in terms a broker can check quickly.

* shared key terms: maximal common CJK substrings (>= 2 characters) and shared English words,
  weighted by idf so that distinctive terms come first;
* the best-matching sentence of the candidate: the one covering the most idf weight of query tokens;
* the score components (dense, lexical, fused, ranks);
* "why not" flags: over_budget, less_mature_than_asked, other_region, mode_mismatch, other_field, and
  contracted (the candidate already has a signed technology contract).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from matcher.filters import city_prefix, top_field
from matcher.postings import Posting, Side
from matcher.tokenize import (
    CJK_RUN_RE,
    ENGLISH_STOPWORDS,
    cjk_pair_tokens,
    is_cjk,
    normalize,
    split_sentences,
)

__all__ = ["Explanation", "best_sentence", "build_explanation", "flag_names", "shared_terms", "why_not_flags"]

Idf = Callable[[str], float]
_CJK_MIN = 2
_WORD_RE = re.compile(r"[a-z0-9]+")


@dataclass(frozen=True)
class Explanation:
    """Everything shown next to a suggestion."""

    shared_terms: tuple[tuple[str, float], ...] = ()
    best_sentence: str = ""
    components: dict[str, float] = field(default_factory=dict)
    flags: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (for storing with a match)."""
        return {
            "shared_terms": [{"term": t, "weight": round(w, 4)} for t, w in self.shared_terms],
            "best_sentence": self.best_sentence,
            "components": {k: round(v, 6) for k, v in self.components.items()},
            "flags": list(self.flags),
        }


def _common_cjk_phrases(query: str, candidate: str) -> set[str]:
    """Maximal substrings (>= 2 CJK characters) of the query that also occur in the candidate."""
    found: set[str] = set()
    for run in _cjk_runs(query):
        start = 0
        while start < len(run) - 1:
            end = start + _CJK_MIN
            if run[start:end] not in candidate:
                start += 1
                continue
            while end < len(run) and run[start : end + 1] in candidate:
                end += 1
            found.add(run[start:end])
            start = end - 1 if end - start > _CJK_MIN else start + 1
    return {p for p in found if not any(p != q and p in q for q in found)}


def _cjk_runs(text: str) -> list[str]:
    return CJK_RUN_RE.findall(text)


def _phrase_weight(phrase: str, idf: Idf) -> float:
    if is_cjk(phrase):
        return sum(idf(phrase[i : i + 2]) for i in range(len(phrase) - 1))
    return idf(phrase)


@lru_cache(maxsize=64)
def _query_tokens(query: str) -> tuple[str, frozenset[str], frozenset[str]]:
    """(normalised text, tokens other than single CJK characters, English words) of a query; cached
    because every suggestion of a query asks again."""
    normalized = normalize(query)
    return normalized, frozenset(cjk_pair_tokens(query)), _words(normalized)


def _words(normalized: str) -> frozenset[str]:
    return frozenset(w for w in _WORD_RE.findall(normalized) if w not in ENGLISH_STOPWORDS)


def shared_terms(query: str, candidate: str, idf: Idf, limit: int = 8) -> tuple[tuple[str, float], ...]:
    """Distinctive terms both texts contain, heaviest first."""
    q_norm, _, q_words = _query_tokens(query)
    c_norm = normalize(candidate)
    phrases = _common_cjk_phrases(q_norm, c_norm)
    phrases |= {w for w in q_words & _words(c_norm) if not w.isdigit()}
    weighted = [(p, _phrase_weight(p, idf)) for p in phrases]
    weighted = [(p, w) for p, w in weighted if w > 0]
    weighted.sort(key=lambda item: (-item[1], item[0]))
    return tuple(weighted[:limit])


def best_sentence(query: str, candidate: str, idf: Idf) -> str:
    """The candidate sentence covering the most idf weight of the query's tokens (CJK unigrams aside)."""
    tokens = _query_tokens(query)[1]
    best, best_score = "", 0.0
    for sentence in split_sentences(candidate):
        score = sum(idf(t) for t in tokens.intersection(cjk_pair_tokens(sentence)))
        if score > best_score:
            best, best_score = sentence, score
    return best


CONTRACTED_STATUS = "contracted"


def why_not_flags(query: Posting, candidate: Posting) -> tuple[str, ...]:
    """Soft problems between a need and an achievement (in either order), and whether the candidate is
    already under contract."""
    if query.side == candidate.side:
        return ()
    need, achievement = (query, candidate) if query.side is Side.NEED else (candidate, query)
    flags: list[str] = []
    budget, price = need.budget_max, achievement.asking_price
    if budget is not None and price is not None and price > budget:
        flags.append("over_budget")
    asked, offered = need.maturity, achievement.maturity
    if asked is not None and offered is not None and offered < asked:
        flags.append("less_mature_than_asked")
    if (
        need.region_code
        and achievement.region_code
        and city_prefix(need.region_code) != city_prefix(achievement.region_code)
    ):
        flags.append("other_region")
    if need.modes and achievement.modes and not need.modes & achievement.modes:
        flags.append("mode_mismatch")
    if (
        need.field_code
        and achievement.field_code
        and top_field(need.field_code) != top_field(achievement.field_code)
    ):
        flags.append("other_field")
    if candidate.status == CONTRACTED_STATUS:
        flags.append("contracted")
    return tuple(flags)


def build_explanation(
    query_text: str,
    candidate_text: str,
    idf: Idf,
    components: dict[str, float],
    *,
    query: Posting | None = None,
    candidate: Posting | None = None,
) -> Explanation:
    """Build the explanation of one suggestion."""
    flags = why_not_flags(query, candidate) if query is not None and candidate is not None else ()
    return Explanation(
        shared_terms=shared_terms(query_text, candidate_text, idf),
        best_sentence=best_sentence(query_text, candidate_text, idf),
        components=dict(components),
        flags=flags,
    )


def flag_names() -> Iterable[str]:
    """Every flag `why_not_flags` can raise."""
    return (
        "over_budget",
        "less_mature_than_asked",
        "other_region",
        "mode_mismatch",
        "other_field",
        "contracted",
    )
