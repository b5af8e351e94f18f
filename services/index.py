"""The index lifecycle: the database is the truth, the engine's index is derived from it.

On start the saved index is loaded and caught up with the database (postings changed since it was
saved are re-indexed, vanished ones removed); a missing, corrupt or foreign index is rebuilt from the
database. Every create, change or withdrawal updates the index before the request returns. Vectors are
cached in the database by content hash, so a rebuild re-encodes only text it has not seen.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import numpy as np
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from data.changes import changes_since, head_seq, safe_start_seq
from data.db import insert_ignoring_duplicates
from data.reference import load_fields
from matcher.config import EngineConfig
from matcher.encoders import Encoder, EncoderConfig, EncoderError, create_encoder
from matcher.engine import MatchEngine, Suggestion
from matcher.filters import PostingFilter
from matcher.index import VectorIndexError, set_search_threads
from matcher.index.store import remove_stale_staging
from matcher.postings import Posting, Side
from models import Achievement, EmbeddingCache, Maturity, Need, PostingStatus
from services.config import Settings
from services.saver import SaverLock

logger = logging.getLogger(__name__)

INDEXED_STATUSES = frozenset({PostingStatus.OPEN, PostingStatus.MATCHED, PostingStatus.CONTRACTED})
"""Postings the engine indexes and suggests; contracted ones are flagged ``contracted`` in explanations."""
CANDIDATE_STATUSES = frozenset(s.value for s in INDEXED_STATUSES)
"""The status filter of suggestions and matching runs (the matcher sees statuses as strings)."""
_MATURITY_TRL = {Maturity.LABORATORY: 3, Maturity.SMALL_PILOT: 5, Maturity.PILOT: 6, Maturity.INDUSTRIAL: 8}
_SYNC_FILE = "sync_state.json"
_BATCH = 256
DRAFT_IDS = 1 << 62  # stand-in ids of rows not yet inserted, far above any database id
_CATCH_UP_MARGIN = timedelta(seconds=5)
Progress = Callable[[int, int], None]


_SIDES: tuple[tuple[type[Need] | type[Achievement], Side], ...] = (
    (Need, Side.NEED),
    (Achievement, Side.ACHIEVEMENT),
)


def maturity_trl(maturity: Maturity | None, trl: int | None = None) -> int | None:
    """The 1–9 readiness level the matcher compares: the stated TRL, else the stage's typical level."""
    if trl is not None:
        return trl
    return _MATURITY_TRL[maturity] if maturity is not None else None


def need_posting(need: Need, draft_id: int | None = None) -> Posting:
    """The matcher's view of a need; ``draft_id`` stands in for the id of a row not yet inserted."""
    posting_id = need.id if draft_id is None else draft_id
    assert posting_id is not None
    return Posting(
        id=posting_id,
        side=Side.NEED,
        title=need.title,
        body=need.description,
        keywords=tuple(need.keywords),
        field_code=need.field_code,
        region_code=need.region_code,
        org_id=need.org_id,
        budget_min=need.budget_min,
        budget_max=need.budget_max,
        maturity=maturity_trl(need.min_maturity),
        modes=frozenset(need.modes),
        status=need.status.value,
        visibility=need.visibility.value,
    )


def achievement_posting(achievement: Achievement, draft_id: int | None = None) -> Posting:
    """The matcher's view of an achievement; ``draft_id`` as in `need_posting`."""
    posting_id = achievement.id if draft_id is None else draft_id
    assert posting_id is not None
    return Posting(
        id=posting_id,
        side=Side.ACHIEVEMENT,
        title=achievement.title,
        body=achievement.abstract,
        keywords=tuple(achievement.keywords),
        field_code=achievement.field_code,
        region_code=achievement.region_code,
        org_id=achievement.org_id,
        asking_price=achievement.asking_price,
        maturity=maturity_trl(achievement.maturity, achievement.trl),
        modes=frozenset(achievement.modes),
        status=achievement.status.value,
        visibility=achievement.visibility.value,
    )


def to_posting(row: Need | Achievement, draft_id: int | None = None) -> Posting:
    return need_posting(row, draft_id) if isinstance(row, Need) else achievement_posting(row, draft_id)


def field_names() -> dict[str, str]:
    """Field code → Chinese name, for every level of the shipped taxonomy."""
    names: dict[str, str] = {}
    for field in load_fields():
        names[field.code] = field.name
        for sub in field.subfields:
            names[sub.code] = sub.name
    return names


def resolve_registered(name: str, cache_dir: Path) -> str:
    """``model:default`` / ``model:<version>`` -> the encoder the model registry names (`learning.registry`)."""
    if not name.startswith("model:"):
        return name
    from learning.registry import ModelRegistry, RegistryError, default_registry_dir

    try:
        return ModelRegistry(default_registry_dir(cache_dir)).resolve_encoder(name.removeprefix("model:"))
    except RegistryError as exc:
        raise EncoderError(str(exc)) from exc


@dataclass(frozen=True)
class NewPostings:
    """What `IndexService.check_new` found for a batch before it is inserted."""

    vectors: np.ndarray
    flags: list[list[dict[str, Any]]]


class IndexService:
    """Owns the `MatchEngine` of a running service; all access goes through one lock."""

    def __init__(self, encoder: Encoder, config: EngineConfig, index_dir: Path | None) -> None:
        self._encoder = encoder
        self._config = config
        self._dir = index_dir
        self._lock = threading.RLock()
        self._field_names = field_names()
        self.engine = self._new_engine()
        self._saver = SaverLock(index_dir)
        self._rebuilding = threading.Lock()
        self.rebuilt_from_seq = 0
        """The change-feed head when this process's index was last rebuilt."""

    def _new_engine(self) -> MatchEngine:
        return MatchEngine(self._encoder, self._config, field_names=self._field_names)

    @classmethod
    def from_settings(cls, settings: Settings) -> IndexService:
        if settings.index_backend.startswith("faiss"):
            set_search_threads(settings.search_threads)
        if settings.index_backend == "milvus":
            from matcher.index.milvus_index import configure

            configure(settings.milvus_uri or str(settings.data_dir / "milvus.db"))
        encoder = create_encoder(
            EncoderConfig(
                name=resolve_registered(settings.encoder, settings.cache_dir),
                threads=settings.encoder_threads,
                batch_size=settings.encoder_batch_size,
                cache_dir=settings.cache_dir,
            )
        )
        return cls(
            encoder,
            EngineConfig.for_encoder_of(encoder, index_backend=settings.index_backend),
            settings.index_dir,
        )

    @property
    def encoder_name(self) -> str:
        return self._encoder.name

    @property
    def engine_version(self) -> str:
        return self.engine.engine_version

    def counts(self) -> dict[str, int]:
        with self._lock:
            return {str(side): n for side, n in self.engine.counts().items()}

    # -- start-up ---------------------------------------------------------------------------------

    def start(self, db: Engine, progress: Progress | None = None) -> str:
        """Load the saved index and catch it up, or rebuild it. Returns what was done."""
        with self._lock:
            synced_at = self._load()
            if synced_at is None:
                self.rebuild(db, progress)
                return "rebuilt"
            changed = self._catch_up(db, synced_at, progress)
            if changed:
                self.save()
            return f"loaded ({changed} caught up)"

    def _load(self) -> datetime | None:
        if self._dir is not None:
            for path in remove_stale_staging(self._dir):  # a save killed half-way left these
                logger.warning("removed the staging folder %s of an interrupted index save", path)
        if self._dir is None or not (self._dir / _SYNC_FILE).exists():
            return None
        try:
            state = json.loads((self._dir / _SYNC_FILE).read_text())
            self.engine = MatchEngine.load(
                self._dir, self._encoder, self._config, field_names=self._field_names
            )
            return datetime.fromisoformat(state["synced_at"])
        except (VectorIndexError, OSError, ValueError, KeyError) as exc:
            logger.warning("index at %s unusable (%s); rebuilding from the database", self._dir, exc)
            return None

    def _catch_up(self, db: Engine, synced_at: datetime, progress: Progress | None) -> int:
        """Re-index postings changed since the index was saved; drop those no longer indexable."""
        since = synced_at - _CATCH_UP_MARGIN
        changed = 0
        with Session(db) as session:
            for model, side in _SIDES:
                live = dict(
                    session.exec(
                        select(model.id, model.updated_at).where(col(model.status).in_(INDEXED_STATUSES))
                    ).all()
                )
                indexed = set(self._indexed_ids(side))
                stale = [i for i in indexed if i not in live]
                if stale:
                    self.engine.remove(side, stale)
                todo = sorted(
                    i
                    for i, updated in live.items()
                    if i is not None and (i not in indexed or updated > since)
                )
                self._index_ids(session, model, todo, progress)
                changed += len(stale) + len(todo)
            session.commit()
        return changed

    def rebuild(self, db: Engine, progress: Progress | None = None) -> int:
        """Build a fresh index from every indexable posting in the database, beside the live one, and
        swap it in: readers and writers keep using the live index meanwhile; changes written during
        the build are replayed from the change feed into the new index before the swap."""
        with db.connect() as connection:
            start = safe_start_seq(connection)
            self.rebuilt_from_seq = head_seq(connection)
        fresh = self._new_engine()
        with Session(db) as session:
            ids = {
                model: list(
                    session.exec(select(model.id).where(col(model.status).in_(INDEXED_STATUSES))).all()
                )
                for model, _ in _SIDES
            }
            total = sum(len(v) for v in ids.values())
            if progress:
                progress(0, total)
            for model, _ in _SIDES:
                self._index_ids(session, model, [i for i in ids[model] if i is not None], progress, fresh)
            session.commit()
        with self._lock:
            self.engine = fresh
            self.refresh(db, changes_since(db, start))
        self.save()
        return total

    def _index_ids(
        self,
        session: Session,
        model: type[Need] | type[Achievement],
        ids: Sequence[int],
        progress: Progress | None,
        engine: MatchEngine | None = None,
    ) -> None:
        for start in range(0, len(ids), _BATCH):
            chunk = ids[start : start + _BATCH]
            found = session.exec(select(model).where(col(model.id).in_(chunk))).all()
            rows = cast(list[Need | Achievement], list(found))
            self._upsert_rows(session, rows, progress, engine)

    # -- changes ----------------------------------------------------------------------------------

    # A request reads and writes the embedding cache in its own transaction BEFORE it takes the index
    # lock: one that waited on the database (SQLite's single writer) while holding the lock would
    # stall every request that holds the database and wants the lock, until the busy timeout.

    def sync(self, session: Session, row: Need | Achievement) -> None:
        """Bring the index in line with one posting after it was changed or withdrawn."""
        posting = to_posting(row)
        if row.status not in INDEXED_STATUSES:
            with self._lock:
                self.engine.remove(posting.side, [posting.id])
            return
        vectors = self._vectors(session, [posting])
        with self._lock:
            self.engine.upsert([posting], vectors=vectors)

    def check_new(self, session: Session, rows: Sequence[Need | Achievement]) -> NewPostings:
        """Encode not-yet-inserted postings (once per text, one batch) and find what each nearly
        repeats: existing postings, or an earlier row of the batch (by draft id DRAFT_IDS + row)."""
        drafts = [to_posting(r, draft_id=DRAFT_IDS + n) for n, r in enumerate(rows)]
        vectors = self._vectors(session, drafts)
        with self._lock:
            flags = [
                [f.to_dict() for f in found] for found in self.engine.find_duplicates_many(drafts, vectors)
            ]
            return NewPostings(vectors, flags)

    def add_new(self, rows: Sequence[Need | Achievement], checked: NewPostings) -> None:
        """Index rows just inserted after `check_new`, and give draft ids in their flags the real ids."""
        with self._lock:
            for row in rows:
                if any(f["existing_id"] >= DRAFT_IDS for f in row.duplicate_flags):
                    row.duplicate_flags = [
                        {**f, "existing_id": rows[f["existing_id"] - DRAFT_IDS].id}
                        if f["existing_id"] >= DRAFT_IDS
                        else f
                        for f in row.duplicate_flags
                    ]
            live = [i for i, r in enumerate(rows) if r.status in INDEXED_STATUSES]
            if live:
                postings = [to_posting(rows[i]) for i in live]
                self.engine.upsert(postings, vectors=checked.vectors[live])

    def _upsert_rows(
        self,
        session: Session,
        rows: Sequence[Need | Achievement],
        progress: Progress | None,
        engine: MatchEngine | None = None,
    ) -> None:
        if not rows:
            return
        postings = [to_posting(r) for r in rows]
        for side in (Side.NEED, Side.ACHIEVEMENT):
            group = [p for p in postings if p.side == side]
            if group:
                (engine or self.engine).upsert(group, vectors=self._vectors(session, group))
        if progress:
            progress(len(rows), -1)

    def _vectors(self, session: Session, postings: Sequence[Posting]) -> np.ndarray:
        """Document vectors from the cache, encoding (and caching) only the missing ones."""
        texts = [self.engine.text_of(p) for p in postings]
        hashes = [hashlib.sha256(t.encode()).hexdigest() for t in texts]
        name = self._encoder.name
        cached = {
            c.content_hash: c
            for c in session.exec(
                select(EmbeddingCache)
                .where(EmbeddingCache.encoder == name)
                .where(col(EmbeddingCache.content_hash).in_(set(hashes)))
            ).all()
        }
        missing = sorted({h for h in hashes if h not in cached})
        vectors = {h: np.frombuffer(c.vector, dtype=np.float32) for h, c in cached.items()}
        if missing:
            by_hash = dict(zip(hashes, texts, strict=True))
            encoded = self._encoder.encode_documents([by_hash[h] for h in missing])
            vectors.update(zip(missing, encoded, strict=True))
            rows = [
                {"content_hash": h, "encoder": name, "dim": int(v.shape[0]), "vector": v.tobytes()}
                for h, v in zip(missing, encoded, strict=True)
            ]
            session.execute(insert_ignoring_duplicates(session, EmbeddingCache), rows)
        return np.stack([vectors[h] for h in hashes]).astype(np.float32, copy=False)

    # -- queries ----------------------------------------------------------------------------------

    def suggest(
        self, query: Need | Achievement | Posting, k: int, filters: PostingFilter | None = None
    ) -> list[Suggestion]:
        posting = query if isinstance(query, Posting) else to_posting(query)
        with self._lock:
            return self.engine.suggest(posting, k=k, filters=filters)

    def owners(self, side: Side) -> dict[int, int]:
        """Posting id -> owning organisation id of every indexed posting of a side."""
        with self._lock:
            postings = self.engine.collection(side).postings
            return {pid: p.org_id for pid, p in postings.items() if p.org_id is not None}

    def _indexed_ids(self, side: Side) -> list[int]:
        with self._lock:
            return list(self.engine.collection(side).postings)

    # -- persistence ------------------------------------------------------------------------------

    def save(self) -> None:
        """Write the index files, in the one process per data directory that holds the saver lock."""
        if self._dir is None or not self._saver.acquire():
            return
        with self._lock:
            self._dir.mkdir(parents=True, exist_ok=True)
            self.engine.save(self._dir)
            state = {"synced_at": datetime.now(UTC).isoformat(), "encoder": self._encoder.name}
            tmp = self._dir / (_SYNC_FILE + ".tmp")
            tmp.write_text(json.dumps(state))
            tmp.replace(self._dir / _SYNC_FILE)

    def close(self) -> None:
        self.save()
        self._saver.release()

    # -- following the change feed (services/changefeed.py) -----------------------------------------

    def refresh(self, db: Engine, changed: dict[str, list[int]]) -> None:
        """Re-read the named postings (side → ids) and index them, or drop the ones that are gone or
        no longer indexable. Vectors come from the embedding cache the writer filled."""
        with Session(db) as session:
            for model, side in _SIDES:
                ids = changed.get(str(side), [])
                for start in range(0, len(ids), _BATCH):
                    chunk = ids[start : start + _BATCH]
                    found = session.exec(select(model).where(col(model.id).in_(chunk))).all()
                    rows = [r for r in cast(list[Need | Achievement], found) if r.status in INDEXED_STATUSES]
                    live = {r.id for r in rows}
                    gone = [i for i in chunk if i not in live]
                    vectors = self._vectors(session, [to_posting(r) for r in rows]) if rows else None
                    with self._lock:
                        if gone:
                            self.engine.remove(side, gone)
                        if rows:
                            self.engine.upsert([to_posting(r) for r in rows], vectors=vectors)
            session.commit()

    def rebuild_requested(self, db: Engine, seq: int) -> None:
        """Another process rebuilt its index (change-feed marker ``seq``): rebuild here too, in the
        background, unless this process's own last rebuild started after the marker."""
        if seq <= self.rebuilt_from_seq or self._rebuilding.locked():
            return

        def run() -> None:
            with self._rebuilding:
                self.rebuild(db)

        threading.Thread(target=run, name="index-rebuild", daemon=True).start()
