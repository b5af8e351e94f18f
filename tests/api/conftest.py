"""API test fixtures: an app over a fresh database (SQLite and PostgreSQL), users of every role in
their organisations, and signed-in headers for each."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session

from api.app import create_app
from api.auth import create_access_token
from api.state import AppState
from data.db import create_db_engine
from matcher.config import EngineConfig
from matcher.encoders import EncoderConfig, create_encoder
from models import Broker, Organization, OrgKind, Role, User
from models.validators import uscc_check_char
from services.config import Settings
from services.index import IndexService
from services.passwords import hash_password

PASSWORD = "correct horse battery"
ROLES = ("anonymous", "enterprise", "other_enterprise", "institution", "broker", "registrar", "admin")


@cache
def password_hash() -> str:
    """Argon2 is slow on purpose; hash the shared test password once per run."""
    return hash_password(PASSWORD)


def make_uscc(serial: int) -> str:
    first17 = f"9141010{serial:010d}"
    return first17 + uscc_check_char(first17)


@dataclass
class World:
    """Who exists in a test database, and how each of them signs in."""

    settings: Settings
    engine: Engine
    index: IndexService
    org: dict[str, int] = field(default_factory=dict)
    user: dict[str, int] = field(default_factory=dict)
    broker_id: int = 0

    def headers(self, role: str) -> dict[str, str]:
        if role == "anonymous":
            return {}
        token, _ = create_access_token(self.settings, self.user[role])
        return {"Authorization": f"Bearer {token}"}


_PEOPLE = (
    # key, org key, org kind, role
    ("admin", "center", OrgKind.TT_AGENCY, Role.ADMIN),
    ("broker", "center", OrgKind.TT_AGENCY, Role.BROKER),
    ("enterprise", "ent_a", OrgKind.ENTERPRISE, Role.ENTERPRISE),
    ("other_enterprise", "ent_b", OrgKind.ENTERPRISE, Role.ENTERPRISE),
    ("institution", "uni", OrgKind.UNIVERSITY, Role.INSTITUTION),
    ("registrar", "registry", OrgKind.REGISTRATION_AGENCY, Role.REGISTRAR),
)


def seed_people(engine: Engine, world: World) -> None:
    with Session(engine) as s:
        for serial, (key, org_key, kind, role) in enumerate(_PEOPLE, start=1):
            if org_key not in world.org:
                org = Organization(
                    name=f"{org_key} 单位", kind=kind, uscc=make_uscc(serial), region_code="410100"
                )
                s.add(org)
                s.flush()
                world.org[org_key] = org.id or 0
            user = User(
                username=key,
                display_name=key,
                role=role,
                org_id=world.org[org_key],
                password_hash=password_hash(),
            )
            s.add(user)
            s.flush()
            world.user[key] = user.id or 0
        broker = Broker(
            user_id=world.user["broker"],
            org_id=world.org["center"],
            field_codes=["F02"],
            region_codes=["410100"],
        )
        s.add(broker)
        s.flush()
        world.broker_id = broker.id or 0
        s.commit()


def test_index() -> IndexService:
    encoder = create_encoder(EncoderConfig(name="hashing"))
    return IndexService(encoder, EngineConfig.for_encoder("hashing", index_backend="numpy"), None)


test_index.__test__ = False  # type: ignore[attr-defined]


@pytest.fixture
def world(database_url: str, tmp_path: Path) -> Iterator[World]:
    settings = Settings(
        data_dir=tmp_path,
        database_url=database_url,
        encoder="hashing",
        index_backend="numpy",
        secret_key="test-secret-key-for-api-tests-0123456789",
        max_body_bytes=64_000,
    )
    engine = create_db_engine(database_url)
    index = test_index()
    index.start(engine)
    w = World(settings=settings, engine=engine, index=index)
    seed_people(engine, w)
    yield w
    engine.dispose()


@pytest.fixture
def client(world: World) -> Iterator[TestClient]:
    state = AppState(settings=world.settings, engine=world.engine, index=world.index)
    with TestClient(create_app(state=state), raise_server_exceptions=False) as c:
        yield c
