"""Near-duplicate detection: a new posting that nearly repeats an existing one on the same side.

Both signals must agree: a high dense cosine (same meaning) AND a high character-shingle Jaccard (same
wording). Dense alone flags paraphrased but distinct projects; shingles alone flag boilerplate-heavy
texts. The flag says whether the two postings come from the same organisation (a re-post to clean
up) or from different ones (possible copying, or the same technology offered twice).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from matcher.tokenize import char_shingles

__all__ = ["DedupConfig", "DuplicateFlag", "jaccard", "shingle_jaccard"]


@dataclass(frozen=True)
class DedupConfig:
    """Thresholds; both must be reached. ``candidates`` is how many dense neighbours are checked."""

    min_cosine: float = 0.90
    min_jaccard: float = 0.60
    shingle_size: int = 3
    candidates: int = 20


@dataclass(frozen=True)
class DuplicateFlag:
    """An existing posting that the new one nearly repeats."""

    existing_id: int
    side: str
    cosine: float
    jaccard: float
    same_org: bool

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, as stored on the posting (``dataclasses.asdict`` is ten times slower)."""
        return {
            "existing_id": self.existing_id,
            "side": self.side,
            "cosine": self.cosine,
            "jaccard": self.jaccard,
            "same_org": self.same_org,
        }


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    """|a ∩ b| / |a ∪ b| (0.0 when both are empty)."""
    union = len(a | b)
    return len(a & b) / union if union else 0.0


def shingle_jaccard(text_a: str, text_b: str, size: int = 3) -> float:
    """Jaccard similarity of the character shingles of two texts."""
    return jaccard(char_shingles(text_a, size), char_shingles(text_b, size))
