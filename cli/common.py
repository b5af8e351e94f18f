"""What every sub-command shares: settings read once, the engine, progress bars, exit codes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import lru_cache

from sqlalchemy.engine import Engine
from tqdm import tqdm

from data.db import create_db_engine
from data.migrate import ensure_migrated
from services.config import Settings

EXIT_FAILED = 1
EXIT_BAD_INPUT = 2


@lru_cache(maxsize=1)
def settings() -> Settings:
    return Settings()


def open_engine(*, check_migrated: bool = True) -> Engine:
    engine = create_db_engine(settings().resolved_database_url)
    if check_migrated:
        ensure_migrated(engine)
    return engine


@contextmanager
def progress_bar(label: str) -> Iterator[Callable[[int, int], None]]:
    """A tqdm bar on stderr fed by ``advance(done_now, total_or_-1)`` callbacks."""
    with tqdm(desc=label, unit=" postings", leave=False) as bar:

        def advance(done: int, total: int) -> None:
            if total > 0:
                bar.total = total
            bar.update(done)

        yield advance
