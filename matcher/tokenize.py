"""Tokenisation for Chinese and English technical text.

Chinese has no spaces, so whitespace tokenisation finds nothing useful. CJK runs become character
unigrams plus overlapping bigrams (robust, no dictionary); Latin text becomes lower-cased words and
numbers. A jieba variant exists for comparison (see evaluation/benchmarks/tune_fusion.py); the
character scheme measured better on csl_dev_zh, so it is the default.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from functools import lru_cache

Tokenizer = Callable[[str], list[str]]

_CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_TOKEN_RE = re.compile(rf"[{_CJK}]+|[a-z0-9]+")
CJK_RUN_RE = re.compile(rf"[{_CJK}]+")
_NOT_ALNUM_RE = re.compile(r"[\W_]+")  # \w is str.isalnum() plus "_"
_SENTENCE_RE = re.compile(rf"(?<=[。！？；\n])|(?<=[.!?;])(?=\s|[{_CJK}])")

ENGLISH_STOPWORDS: frozenset[str] = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "been",
        "but",
        "by",
        "can",
        "for",
        "from",
        "had",
        "has",
        "have",
        "in",
        "into",
        "is",
        "it",
        "its",
        "of",
        "on",
        "or",
        "our",
        "such",
        "that",
        "the",
        "their",
        "then",
        "there",
        "these",
        "this",
        "those",
        "to",
        "was",
        "were",
        "which",
        "with",
        "we",
        "will",
        "not",
        "no",
        "than",
    ]
)


def normalize(text: str) -> str:
    """NFKC-fold (full-width to half-width) and lower-case."""
    return unicodedata.normalize("NFKC", text).lower()


def is_cjk(token: str) -> bool:
    """True if the token is made of CJK ideographs."""
    return bool(CJK_RUN_RE.fullmatch(token))


def cjk_bigram_tokens(text: str) -> list[str]:
    """CJK character unigrams and bigrams plus English words and numbers (stopwords dropped)."""
    tokens: list[str] = []
    for match in _TOKEN_RE.finditer(normalize(text)):
        run = match.group()
        if "a" <= run[0] <= "z" or "0" <= run[0] <= "9":
            if run not in ENGLISH_STOPWORDS:
                tokens.append(run)
        else:
            tokens.extend(run)
            tokens.extend(map(str.__add__, run[:-1], run[1:]))
    return tokens


def cjk_pair_tokens(text: str) -> set[str]:
    """The distinct tokens of `cjk_bigram_tokens` other than single CJK characters: what explanations
    compare, built without the unigrams they would throw away."""
    tokens: set[str] = set()
    for run in _TOKEN_RE.findall(normalize(text)):
        if "a" <= run[0] <= "z" or "0" <= run[0] <= "9":
            if run not in ENGLISH_STOPWORDS:
                tokens.add(run)
        elif len(run) > 1:
            tokens.update(map(str.__add__, run[:-1], run[1:]))
    return tokens


def jieba_tokens(text: str) -> list[str]:
    """jieba word segmentation (search mode) for CJK runs; English handled as in `cjk_bigram_tokens`."""
    import jieba

    tokens: list[str] = []
    for match in _TOKEN_RE.finditer(normalize(text)):
        run = match.group()
        if is_cjk(run):
            tokens.extend(jieba.lcut_for_search(run))
        elif run not in ENGLISH_STOPWORDS:
            tokens.append(run)
    return tokens


@lru_cache(maxsize=8)
def get_tokenizer(name: str) -> Tokenizer:
    """Look up a tokenizer by name ("cjk-bigram" or "jieba")."""
    if name == "cjk-bigram":
        return cjk_bigram_tokens
    if name == "jieba":
        return jieba_tokens
    raise ValueError(f"unknown tokenizer {name!r}; known: cjk-bigram, jieba")


def split_sentences(text: str) -> list[str]:
    """Split on Chinese 。！？； and newlines, and on English . ! ? followed by whitespace."""
    parts = _SENTENCE_RE.split(text)
    return [p.strip() for p in parts if p and p.strip()]


def char_shingles(text: str, size: int = 3) -> frozenset[str]:
    """Character shingles of the normalised text with whitespace and punctuation removed."""
    compact = _NOT_ALNUM_RE.sub("", normalize(text))
    if len(compact) <= size:
        return frozenset({compact}) if compact else frozenset()
    return frozenset(compact[i : i + size] for i in range(len(compact) - size + 1))
