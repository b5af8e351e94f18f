"""Saving and loading a MatchEngine.

Layout of the directory::

    engine.json                 encoder, dim, engine version, config, counts, saved_at, checksums
    need/ achievement/          vector index + its manifest (matcher.index.store)
    need.jsonl achievement.jsonl   the postings and the exact text that was indexed

The BM25 index is rebuilt from the stored text on load (seconds for 10^5 postings), so the text that
was embedded and the text that is matched lexically can never drift apart. The whole directory is
written to a staging directory and swapped in.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from dataclasses import asdict
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from matcher.index.base import IndexCorruptError, ManifestMismatchError
from matcher.index.store import file_sha256, load_index, save_index, swap_directory
from matcher.postings import Posting, Side

if TYPE_CHECKING:
    from matcher.engine import MatchEngine

__all__ = ["ENGINE_FILE", "load_engine", "posting_from_dict", "posting_to_dict", "save_engine"]

ENGINE_FILE = "engine.json"


def posting_to_dict(posting: Posting) -> dict[str, Any]:
    """JSON-ready posting (Decimal as string, sets as sorted lists)."""
    data = asdict(posting)
    data["side"] = str(posting.side)
    data["keywords"] = list(posting.keywords)
    data["modes"] = sorted(posting.modes)
    for key in ("budget_min", "budget_max", "asking_price"):
        value = data[key]
        data[key] = None if value is None else str(value)
    return data


def posting_from_dict(data: dict[str, Any]) -> Posting:
    """Inverse of `posting_to_dict`."""
    values = dict(data)
    values["side"] = Side(values["side"])
    values["keywords"] = tuple(values.get("keywords", ()))
    values["modes"] = frozenset(values.get("modes", ()))
    for key in ("budget_min", "budget_max", "asking_price"):
        if values.get(key) is not None:
            values[key] = Decimal(values[key])
    return Posting(**values)


def save_engine(engine: MatchEngine, directory: Path) -> None:
    """Write the engine into ``directory`` (replacing it as a whole)."""
    directory.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{directory.name}.", dir=directory.parent))
    try:
        checksums = {}
        for side in Side:
            coll = engine.collection(side)
            save_index(coll.index, staging / str(side), encoder=engine.encoder.name)
            name = f"{side}.jsonl"
            with (staging / name).open("w", encoding="utf-8") as handle:
                for doc_id, posting in coll.postings.items():
                    record = {"posting": posting_to_dict(posting), "text": coll.texts[doc_id]}
                    handle.write(json.dumps(record, ensure_ascii=False) + "\n")
            checksums[name] = file_sha256(staging / name)
        meta = {
            "encoder": engine.encoder.name,
            "dim": engine.encoder.dim,
            "engine_version": engine.engine_version,
            "config": engine.config.to_dict(),
            "counts": engine.counts(),
            "saved_at": datetime.now(UTC).isoformat(),
            "checksums": checksums,
        }
        (staging / ENGINE_FILE).write_text(json.dumps(meta, indent=2, default=str), encoding="utf-8")
        swap_directory(staging, directory)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _read_meta(directory: Path) -> dict[str, Any]:
    try:
        meta: dict[str, Any] = json.loads((directory / ENGINE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise IndexCorruptError(f"no readable {ENGINE_FILE} in {directory}: {exc}") from exc
    return meta


def load_engine(engine: MatchEngine, directory: Path) -> None:
    """Fill a freshly built engine from ``directory`` after checking encoder, checksums and counts."""
    meta = _read_meta(directory)
    if (meta.get("encoder"), meta.get("dim")) != (engine.encoder.name, engine.encoder.dim):
        raise ManifestMismatchError(
            f"engine in {directory} was built with {meta.get('encoder')} (dim {meta.get('dim')}), "
            f"current encoder is {engine.encoder.name} (dim {engine.encoder.dim}): rebuild"
        )
    for side in Side:
        name = f"{side}.jsonl"
        path = directory / name
        if not path.is_file() or file_sha256(path) != meta.get("checksums", {}).get(name):
            raise IndexCorruptError(f"{path} is missing or does not match its checksum")
        index = load_index(
            directory / str(side),
            encoder=engine.encoder.name,
            dim=engine.encoder.dim,
            backend=engine.config.index_backend,
        )
        coll = engine.collection(side)
        coll.index = index
        records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
        coll.add_indexed([posting_from_dict(r["posting"]) for r in records], [r["text"] for r in records])
        if set(coll.postings) != set(index.ids().tolist()):
            raise IndexCorruptError(f"{side}: vector index and postings file hold different ids")
