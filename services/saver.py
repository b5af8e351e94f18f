"""Exactly one process per data directory writes the index files: the one holding this lock.

Several API workers (and job workers) on one machine share a data directory; the first to save takes
an exclusive `flock` on ``<index dir>/saver.lock`` and keeps it until it closes its index, the others
skip saving (their indexes follow the database's change feed; the files only speed up a restart).
The operating system releases the lock when the holder dies, so a successor takes over.
"""

from __future__ import annotations

import fcntl
import os
import threading
from pathlib import Path

__all__ = ["SaverLock"]


class SaverLock:
    def __init__(self, directory: Path | None) -> None:
        self._path = None if directory is None else directory / "saver.lock"
        self._fd: int | None = None
        self._mutex = threading.Lock()

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> bool:
        """Take the lock if no other process holds it; True while this process is the saver."""
        if self._path is None:
            return False
        with self._mutex:
            if self._fd is not None:
                return True
            self._path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                return False
            self._fd = fd
            return True

    def release(self) -> None:
        with self._mutex:
            if self._fd is not None:
                os.close(self._fd)  # closing the descriptor drops the flock
                self._fd = None
