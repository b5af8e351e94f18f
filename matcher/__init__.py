"""TechMatch retrieval library: encoders, indexes, BM25, fusion, filters, explanations, assignment.

Pure: no database, no HTTP, no environment reads. Importing the package is cheap; FAISS, torch and
the model packages are imported only when an index or encoder that needs them is created.
"""

from matcher._version import __version__
from matcher.config import DEFAULT_ENCODER, EngineConfig
from matcher.dedup import DuplicateFlag
from matcher.encoders import Encoder, EncoderConfig, EncoderError, create_encoder
from matcher.engine import MatchEngine, Suggestion
from matcher.explain import Explanation
from matcher.filters import PostingFilter
from matcher.index import IndexCorruptError, ManifestMismatchError, VectorIndexError
from matcher.postings import Posting, Side, posting_text

__all__ = [
    "DEFAULT_ENCODER",
    "DuplicateFlag",
    "Encoder",
    "EncoderConfig",
    "EncoderError",
    "EngineConfig",
    "Explanation",
    "IndexCorruptError",
    "ManifestMismatchError",
    "MatchEngine",
    "Posting",
    "PostingFilter",
    "Side",
    "Suggestion",
    "VectorIndexError",
    "__version__",
    "create_encoder",
    "posting_text",
]
