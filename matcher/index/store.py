"""Persisting an index with a manifest, and refusing to load one that is corrupt or built otherwise.

``manifest.json`` records the encoder name, dimension, count, backend, build time (UTC, tz-aware),
the SHA-256 of every payload file, and library versions. Files are written to a temporary directory
first and swapped in, so a crash never leaves a half-written index behind a valid manifest.
"""

from __future__ import annotations

import hashlib
import json
import platform
import shutil
import tempfile
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from matcher._version import __version__
from matcher.index.base import IndexCorruptError, ManifestMismatchError, VectorIndex
from matcher.index.registry import load_backend

__all__ = [
    "MANIFEST_FILE",
    "IndexManifest",
    "file_sha256",
    "load_index",
    "read_manifest",
    "save_index",
    "swap_directory",
]

MANIFEST_FILE = "manifest.json"
FORMAT_VERSION = 1


@dataclass(frozen=True)
class IndexManifest:
    """What was built, by what, and how to check it."""

    encoder: str
    dim: int
    count: int
    backend: str
    built_at: datetime
    checksums: dict[str, str]
    versions: dict[str, str] = field(default_factory=dict)
    format_version: int = FORMAT_VERSION

    def to_json(self) -> str:
        """Serialise (the timestamp as ISO 8601 with offset)."""
        data = asdict(self)
        data["built_at"] = self.built_at.isoformat()
        return json.dumps(data, indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> IndexManifest:
        """Parse; raises IndexCorruptError on anything malformed."""
        try:
            data: dict[str, Any] = json.loads(text)
            built_at = datetime.fromisoformat(data.pop("built_at"))
            manifest = cls(built_at=built_at, **data)
        except (ValueError, TypeError, KeyError) as exc:
            raise IndexCorruptError(f"malformed index manifest: {exc}") from exc
        if manifest.built_at.tzinfo is None:
            raise IndexCorruptError("manifest build time has no timezone")
        return manifest


def file_sha256(path: Path) -> str:
    """Hex SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _versions() -> dict[str, str]:
    found = {"python": platform.python_version(), "matcher": __version__}
    for package in ("numpy", "faiss-cpu"):
        try:
            found[package] = version(package)
        except PackageNotFoundError:
            continue
    return found


def save_index(index: VectorIndex, directory: Path, *, encoder: str) -> IndexManifest:
    """Write the index and its manifest into ``directory`` (replaced atomically as a whole)."""
    directory = Path(directory)
    directory.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{directory.name}.", dir=directory.parent))
    try:
        files = index.save(staging)
        manifest = IndexManifest(
            encoder=encoder,
            dim=index.dim,
            count=len(index),
            backend=index.backend,
            built_at=datetime.now(UTC),
            checksums={name: file_sha256(staging / name) for name in files},
            versions=_versions(),
        )
        (staging / MANIFEST_FILE).write_text(manifest.to_json(), encoding="utf-8")
        swap_directory(staging, directory)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return manifest


STALE_STAGING_SECONDS = 600.0


def remove_stale_staging(directory: Path, *, older_than: float = STALE_STAGING_SECONDS) -> list[Path]:
    """Delete what interrupted saves of ``directory`` left beside it (``.<name>.*`` staging folders and
    the ``.<name>.old`` tree of a half-done swap); returns what was removed. Folders touched in the last
    ``older_than`` seconds are kept: they may be another process's save in progress."""
    directory = Path(directory)
    if not directory.parent.is_dir():
        return []
    cutoff = time.time() - older_than
    removed = []
    for path in directory.parent.glob(f".{directory.name}.*"):
        if path.is_dir() and not path.is_symlink() and path.stat().st_mtime < cutoff:
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


def swap_directory(staging: Path, directory: Path) -> None:
    """Replace ``directory`` by ``staging`` (rename-based; the old tree is removed afterwards)."""
    old = directory.with_name(f".{directory.name}.old")
    shutil.rmtree(old, ignore_errors=True)
    if directory.exists():
        directory.rename(old)
    staging.rename(directory)
    shutil.rmtree(old, ignore_errors=True)


def read_manifest(directory: Path) -> IndexManifest:
    """The manifest of a saved index; IndexCorruptError if it is missing or malformed."""
    path = Path(directory) / MANIFEST_FILE
    try:
        return IndexManifest.from_json(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise IndexCorruptError(f"no readable manifest at {path}: {exc}") from exc


def load_index(directory: Path, *, encoder: str, dim: int, backend: str | None = None) -> VectorIndex:
    """Load a saved index after checking encoder, dimension, backend, checksums and count."""
    directory = Path(directory)
    manifest = read_manifest(directory)
    if (manifest.encoder, manifest.dim) != (encoder, dim):
        raise ManifestMismatchError(
            f"index in {directory} was built with encoder {manifest.encoder} (dim {manifest.dim}); "
            f"the current encoder is {encoder} (dim {dim}): rebuild the index"
        )
    if backend is not None and manifest.backend != backend:
        raise ManifestMismatchError(
            f"index in {directory} uses backend {manifest.backend}, configured backend is {backend}"
        )
    for name, expected in manifest.checksums.items():
        path = directory / name
        if not path.is_file() or file_sha256(path) != expected:
            raise IndexCorruptError(f"{path} is missing or does not match its checksum")
    index = load_backend(manifest.backend, directory, manifest.dim)
    if len(index) != manifest.count:
        raise IndexCorruptError(
            f"index in {directory} holds {len(index)} vectors, manifest says {manifest.count}"
        )
    return index
