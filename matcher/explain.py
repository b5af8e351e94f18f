"""Why a suggestion was made (and what might stop it), in terms a broker can check quickly.

* shared key terms: maximal common CJK substrings (>= 2 characters) and shared English words,
  weighted by idf so that distinctive terms come first;
* the best-matching sentence of the candidate: the one covering the most idf weight of query tokens;
* the score components (dense, lexical, fused, ranks);
* "why not" flags: over_budget, less_mature_than_asked, other_region, mode_mismatch, other_field.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from matcher.filters import city_prefix, top_field
from matcher.postings import Posting, Side
from matcher.tokenize import cjk_bigram_tokens, is_cjk, normalize, split_sentences

__all__ = ["Explanation", "best_sentence", "build_explanation", "flag_names", "shared_terms", "why_not_flags"]

Idf = Callable[[str], float]
_CJK_MIN = 2


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
    runs, current = [], []
    for ch in text:
        if is_cjk(ch):
            current.append(ch)
        elif current:
            runs.append("".join(current))
            current = []
    if current:
        runs.append("".join(current))
    return runs


def _phrase_weight(phrase: str, idf: Idf) -> float:
    if is_cjk(phrase):
        return sum(idf(phrase[i : i + 2]) for i in range(len(phrase) - 1))
    return idf(phrase)


def shared_terms(query: str, candidate: str, idf: Idf, limit: int = 8) -> tuple[tuple[str, float], ...]:
    """Distinctive terms both texts contain, heaviest first."""
    q_norm, c_norm = normalize(query), normalize(candidate)
    phrases = _common_cjk_phrases(q_norm, c_norm)
    c_words = {t for t in cjk_bigram_tokens(c_norm) if not is_cjk(t)}
    phrases |= {t for t in cjk_bigram_tokens(q_norm) if not is_cjk(t) and t in c_words and not t.isdigit()}
    weighted = [(p, _phrase_weight(p, idf)) for p in phrases]
    weighted = [(p, w) for p, w in weighted if w > 0]
    weighted.sort(key=lambda item: (-item[1], item[0]))
    return tuple(weighted[:limit])


def best_sentence(query: str, candidate: str, idf: Idf) -> str:
    """The candidate sentence covering the most idf weight of the query's tokens."""
    q_tokens = set(cjk_bigram_tokens(query))
    best, best_score = "", 0.0
    for sentence in split_sentences(candidate):
        shared = q_tokens.intersection(cjk_bigram_tokens(sentence))
        score = sum(idf(t) for t in shared if not (is_cjk(t) and len(t) == 1))
        if score > best_score:
            best, best_score = sentence, score
    return best


def why_not_flags(query: Posting, candidate: Posting) -> tuple[str, ...]:
    """Soft problems between a need and an achievement (in either order)."""
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
    return ("over_budget", "less_mature_than_asked", "other_region", "mode_mismatch", "other_field")
