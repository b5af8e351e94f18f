"""Several API workers, one truth: real `techmatch serve` processes on PostgreSQL share one database
and one data directory; a posting written through one of them is in every one's suggestions."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import Engine

from services.config import Settings
from tests.api.conftest import World, seed_people, test_index
from tests.scaleout.servers import SECRET, environment, servers

pytestmark = pytest.mark.postgres
P = "/api/v1"


def _world(engine: Engine, url: str, tmp_path: Path) -> World:
    settings = Settings(data_dir=tmp_path, database_url=url, encoder="hashing", secret_key=SECRET)
    world = World(settings=settings, engine=engine, index=test_index())
    seed_people(engine, world)
    return world


def _achievement(base: str, world: World) -> int:
    body = {
        "title": "锂电池正极材料低温烧结工艺",
        "abstract": "一种磷酸铁锂正极材料的低温烧结方法，能耗降低三成，已完成中试。",
        "field_code": "F02",
        "keywords": ["锂电池", "正极材料"],
    }
    created = httpx.post(
        f"{base}{P}/achievements", json=body, headers=world.headers("institution"), timeout=30
    )
    assert created.status_code == 201, created.text
    return int(created.json()["id"])


def _suggested_needs(base: str, achievement_id: int, world: World) -> list[int]:
    answer = httpx.get(
        f"{base}{P}/achievements/{achievement_id}/suggestions",
        params={"k": 10},
        headers=world.headers("admin"),
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    return [int(s["posting"]["id"]) for s in answer.json()]


def test_a_need_written_through_one_worker_is_suggested_by_every_worker(
    postgres_engine: Engine, postgres_schema_url: str, tmp_path: Path
) -> None:
    world = _world(postgres_engine, postgres_schema_url, tmp_path)
    env = environment(postgres_schema_url, tmp_path / "data")
    # A is one process, B is `serve --workers 2` (two processes on one port, the kernel picks)
    with servers((1, 2), env, tmp_path) as (a, b):
        achievement = _achievement(b, world)  # written through B: A must learn of it from the feed
        need = httpx.post(
            f"{a}{P}/needs",
            json={
                "title": "求购锂电池正极材料烧结技术",
                "description": "企业需要磷酸铁锂正极材料的低温烧结工艺，降低能耗。",
                "field_code": "F02",
                "keywords": ["锂电池", "正极材料"],
            },
            headers=world.headers("enterprise"),
            timeout=30,
        )
        assert need.status_code == 201, need.text
        need_id = int(need.json()["id"])
        written = time.monotonic()
        deadline = written + 30
        while need_id not in _suggested_needs(b, achievement, world):  # B has not applied it yet
            assert time.monotonic() < deadline, "worker B never saw the need written through A"
            time.sleep(0.05)
        logging.getLogger(__name__).warning(
            "visible in the other worker after %.3f s", time.monotonic() - written
        )
        for n in range(20):  # whichever worker answers (a fresh connection each time)
            assert need_id in _suggested_needs((a, b)[n % 2], achievement, world), f"request {n}"
        # a withdrawal through B leaves A's suggestions as promptly
        withdrawn = httpx.post(
            f"{b}{P}/needs/{need_id}/withdraw", headers=world.headers("enterprise"), timeout=30
        )
        assert withdrawn.status_code == 200, withdrawn.text
        while need_id in _suggested_needs(a, achievement, world):
            assert time.monotonic() < deadline + 30, "worker A kept suggesting a withdrawn need"
            time.sleep(0.05)
    saved = tmp_path / "data" / "index"
    assert (saved / "sync_state.json").exists()  # exactly one of them (the saver) wrote the files
