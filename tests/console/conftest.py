"""Console fixtures: a seeded SQLite marketplace, the app over it, and signing in through the login form."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from api.app import create_app
from api.state import AppState
from data.db import create_db_engine
from matcher.config import EngineConfig
from matcher.encoders import EncoderConfig, create_encoder
from services.config import Settings
from services.index import IndexService
from tests.console.seed import PASSWORD, Seeded, seed_marketplace

CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class ConsoleEnv:
    settings: Settings
    engine: Engine
    index: IndexService
    seeded: Seeded

    def state(self) -> AppState:
        return AppState(settings=self.settings, engine=self.engine, index=self.index)


def make_env(sqlite_template: Path, tmp_path: Path) -> ConsoleEnv:
    db_path = tmp_path / "console.db"
    shutil.copy(sqlite_template, db_path)
    url = f"sqlite:///{db_path}"
    settings = Settings(
        data_dir=tmp_path,
        database_url=url,
        encoder="hashing",
        index_backend="numpy",
        secret_key="console-test-secret-0123456789abcdef",
    )
    engine = create_db_engine(url)
    encoder = create_encoder(EncoderConfig(name="hashing"))
    index = IndexService(encoder, EngineConfig.for_encoder("hashing", index_backend="numpy"), None)
    index.start(engine)
    return ConsoleEnv(settings=settings, engine=engine, index=index, seeded=seed_marketplace(engine, index))


@pytest.fixture
def env(sqlite_template: Path, tmp_path: Path) -> Iterator[ConsoleEnv]:
    environment = make_env(sqlite_template, tmp_path)
    yield environment
    environment.engine.dispose()


@pytest.fixture
def client(env: ConsoleEnv) -> Iterator[TestClient]:
    with TestClient(create_app(state=env.state()), raise_server_exceptions=True) as c:
        yield c


def csrf_of(html: str) -> str:
    found = CSRF_FIELD.search(html)
    assert found, "page has no CSRF field"
    return found.group(1)


def login(client: TestClient, username: str, password: str = PASSWORD) -> str:
    """Sign in through the form; returns the session's CSRF token (from the next page's forms)."""
    page = client.get("/console/login")
    response = client.post(
        "/console/login",
        data={"username": username, "password": password, "csrf_token": csrf_of(page.text), "next": ""},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    home = client.get(response.headers["location"])
    assert home.status_code == 200
    return csrf_of(home.text)
