"""Shared fixtures. Persistence tests take `engine`, which runs each test on SQLite and on PostgreSQL.

PostgreSQL is reached through TECHMATCH_TEST_POSTGRES_URL (default: the local trust-auth server). Each
test run gets its own schema, dropped at the end. With TECHMATCH_REQUIRE_POSTGRES=1 (set by .ci/run) an
unreachable server fails the run instead of skipping the PostgreSQL half.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from data.db import create_db_engine
from data.migrate import upgrade

DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def _postgres_url() -> str:
    return os.environ.get("TECHMATCH_TEST_POSTGRES_URL", DEFAULT_PG_URL)


@pytest.fixture(scope="session")
def postgres_schema_url() -> Iterator[str]:
    """Create a private schema on the PostgreSQL server, migrate it, drop it afterwards."""
    base = create_db_engine(_postgres_url())
    schema = f"tm_test_{uuid.uuid4().hex[:10]}"
    try:
        with base.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as exc:  # the server is not there
        base.dispose()
        if os.environ.get("TECHMATCH_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"PostgreSQL required but unreachable at {_postgres_url()}: {exc}")
        pytest.skip(f"PostgreSQL unreachable at {_postgres_url()}")
    url = _postgres_url() + ("&" if "?" in _postgres_url() else "?") + f"options=-csearch_path%3D{schema}"
    engine = create_db_engine(url)
    upgrade(engine)
    engine.dispose()
    try:
        yield url
    finally:
        with base.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        base.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, copied for each test (faster than migrating every time)."""
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    engine = create_db_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    return path


def _truncate_all(engine: Engine) -> None:
    names = ", ".join(f'"{t.name}"' for t in reversed(SQLModel.metadata.sorted_tables))
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> str:
    """A migrated, empty database URL on each backend."""
    if request.param == "sqlite":
        path = tmp_path / "techmatch.db"
        shutil.copy(sqlite_template, path)
        return f"sqlite:///{path}"
    url: str = request.getfixturevalue("postgres_schema_url")
    engine = create_db_engine(url)
    _truncate_all(engine)
    engine.dispose()
    return url


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = create_db_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def postgres_engine(postgres_schema_url: str) -> Iterator[Engine]:
    """PostgreSQL only, for tests about real concurrency."""
    engine = create_db_engine(postgres_schema_url, pool_size=10)
    _truncate_all(engine)
    yield engine
    engine.dispose()
