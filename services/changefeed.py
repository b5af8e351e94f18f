"""Follow the posting change feed so every process's in-memory index agrees with the database.

A `ChangeFollower` thread reads `posting_changes` rows after its cursor, in ``seq`` order, and asks
the `IndexService` to re-read the named postings (re-index, or drop the ones no longer indexable).
PostgreSQL wakes it with LISTEN/NOTIFY on the database's own channel; SQLite (one machine) is polled.
Either way it also polls every ``poll_seconds``, so a lost notification costs a moment, not a change.

Sequence numbers are allocated at insert and become visible at commit, so a lower number can appear
after a higher one. The cursor therefore only passes a gap once the change after it is older than
`GAP_TIMEOUT` (the missing number belonged to a rolled-back or very slow transaction); changes above
the cursor that were already applied are remembered and not applied again.
"""

from __future__ import annotations

import logging
import threading
from collections import defaultdict
from collections.abc import Sequence
from datetime import timedelta
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.engine import Engine

from data.changes import CHANGES, REBUILD_MARKER, pg_listen_connection, safe_start_seq
from models.types import utc_now

__all__ = ["GAP_TIMEOUT", "ChangeFollower"]

logger = logging.getLogger(__name__)
GAP_TIMEOUT = timedelta(seconds=30)
_BATCH = 5000


class ChangeTarget(Protocol):
    def refresh(self, db: Engine, changed: dict[str, list[int]]) -> None: ...

    def rebuild_requested(self, db: Engine, seq: int) -> None: ...


class ChangeFollower:
    """Applies the feed to one index, from a cursor, in a daemon thread (or step by step in tests)."""

    def __init__(self, db: Engine, target: ChangeTarget, *, poll_seconds: float = 0.25) -> None:
        self._db = db
        self._target = target
        self._poll = poll_seconds
        with db.connect() as connection:
            self.cursor = safe_start_seq(connection)
        self._applied: set[int] = set()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def poll_once(self) -> int:
        """Apply every visible change after the cursor not applied yet; return how many."""
        with self._db.connect() as connection:
            rows = connection.execute(
                select(CHANGES.seq, CHANGES.side, CHANGES.posting_id, CHANGES.created_at)
                .where(CHANGES.seq > self.cursor)
                .order_by(CHANGES.seq)
                .limit(_BATCH)
            ).all()
        fresh = [r for r in rows if r.seq not in self._applied]
        if fresh:
            changed: dict[str, list[int]] = defaultdict(list)
            for r in fresh:
                changed[r.side].append(r.posting_id)
            markers = [r.seq for r in fresh if r.side == REBUILD_MARKER]
            changed.pop(REBUILD_MARKER, None)
            if changed:
                self._target.refresh(self._db, {side: sorted(set(ids)) for side, ids in changed.items()})
            if markers:  # a reindex job ran somewhere: rebuild here too, beside the live index
                self._target.rebuild_requested(self._db, max(markers))
            self._applied.update(r.seq for r in fresh)
        self._advance(rows)
        return len(fresh)

    def _advance(self, rows: Sequence[Any]) -> None:
        old_enough = utc_now() - GAP_TIMEOUT
        cursor = self.cursor
        for r in rows:
            if r.seq != cursor + 1 and r.created_at > old_enough:
                break  # a lower number may still commit: wait for it
            cursor = r.seq
        self.cursor = cursor
        self._applied = {s for s in self._applied if s > cursor}

    # -- the thread -------------------------------------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="change-follower", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _run(self) -> None:
        listener = self._listener()
        while not self._stop.is_set():
            try:
                self.poll_once()
            except Exception:  # the database went away for a moment: try again on the next beat
                logger.exception("change feed: poll failed")
            self._wait(listener)
        if listener is not None:
            listener.close()

    def _listener(self) -> Any:
        if self._db.dialect.name != "postgresql":
            return None
        try:
            return pg_listen_connection(self._db)
        except Exception:
            logger.exception("change feed: LISTEN failed; polling only")
            return None

    def _wait(self, listener: Any) -> None:
        if listener is None:
            self._stop.wait(self._poll)
            return
        try:  # wake on the first notification, or after a slower poll interval
            for _ in listener.notifies(timeout=max(self._poll, 1.0), stop_after=1):
                pass
        except Exception:
            logger.exception("change feed: LISTEN connection lost; polling")
            self._stop.wait(self._poll)
