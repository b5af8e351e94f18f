"""Property-based check of the live OpenAPI schema (schemathesis): for every operation, generated
requests sent as an admin never get a 5xx, and every response (errors included) conforms to the
status codes, media types and schemas the API documents. SQLite only; bounded in examples and time."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from api.app import create_app
from api.state import AppState
from data.db import create_db_engine
from services.config import Settings
from tests.api.conftest import World, seed_people, test_index
from tests.api.factory import Factory

pytestmark = pytest.mark.slow

schemathesis.serializer.alias("application/x-ndjson", "text/plain")  # JSONL bodies of the import endpoints
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
MAX_EXAMPLES = int(os.environ.get("TECHMATCH_SCHEMATHESIS_EXAMPLES", "5"))  # more for a deeper local run
BUDGET_SECONDS = float(os.environ.get("TECHMATCH_SCHEMATHESIS_SECONDS", "240"))
_started: list[float] = []


@pytest.fixture
def sqlite_world(sqlite_template: Path, tmp_path: Path) -> Iterator[World]:
    path = tmp_path / "techmatch.db"
    shutil.copy(sqlite_template, path)
    url = f"sqlite:///{path}"
    settings = Settings(
        data_dir=tmp_path,
        database_url=url,
        encoder="hashing",
        index_backend="numpy",
        max_body_bytes=64_000,
        secret_key="schemathesis-secret-key-0123456789abcdef",
    )
    engine = create_db_engine(url)
    index = test_index()
    index.start(engine)
    world = World(settings=settings, engine=engine, index=index)
    seed_people(engine, world)
    f = Factory(world)
    for _ in range(2):  # something for ids 1, 2 to point at
        f.need()
        f.achievement()
        f.contract()
    f.match()
    yield world
    engine.dispose()


STATE = AppState(
    settings=Settings(max_body_bytes=64_000, dev_mode=True),
    engine=create_db_engine("sqlite://"),
    index=test_index(),
)
APP: FastAPI = create_app(state=STATE)
schema = schemathesis.openapi.from_dict(APP.openapi())  # the live schema; building it needs no database
schema.app = APP  # requests go to the app in-process (what `from_asgi` sets, without running the lifespan)


@pytest.fixture(autouse=True)
def _serve(sqlite_world: World) -> None:
    """Point the app's state at this test's database (schemathesis runs the lifespan on every call)."""
    STATE.settings, STATE.engine, STATE.index = sqlite_world.settings, sqlite_world.engine, sqlite_world.index


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
    derandomize=os.environ.get("TECHMATCH_SCHEMATHESIS_RANDOM") != "1",  # reproducible in CI
)
def test_api_conforms_to_its_schema(case: schemathesis.Case[Any], sqlite_world: World) -> None:
    if not _started:
        _started.append(time.monotonic())
    if time.monotonic() - _started[0] > BUDGET_SECONDS:
        pytest.skip("schemathesis time budget spent")
    case.call_and_validate(headers=sqlite_world.headers("admin"), checks=CHECKS)
