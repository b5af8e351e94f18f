"""Money under real concurrency: parallel HTTP requests against a running server (uvicorn, SQLite and
PostgreSQL) never pay a contract beyond its amount (issue 19, D1); a long matching run does not lock
other writers out (D5)."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from threading import Barrier
from typing import Any

import httpx
import pytest
from sqlalchemy import event
from sqlmodel import Session, func, select

from api.app import create_app
from api.state import AppState
from models import Match
from tests.api.conftest import World
from tests.api.factory import Factory
from tests.api.live import live_server

P = "/api/v1"
PARALLEL = 20


def test_parallel_payments_never_exceed_the_contract(world: World) -> None:
    contract_id = Factory(world).contract(amount="1000.00")
    headers = world.headers("broker")
    app = create_app(state=AppState(settings=world.settings, engine=world.engine, index=world.index))
    start = Barrier(PARALLEL)

    with live_server(app) as base, httpx.Client(base_url=base, timeout=60) as http:

        def pay(_: int) -> int:
            start.wait()  # all requests leave together
            r = http.post(
                f"{P}/contracts/{contract_id}/payments",
                json={"amount": "100.00", "paid_on": "2026-04-01"},
                headers=headers,
            )
            assert r.status_code in (201, 422), r.text
            return r.status_code

        with ThreadPoolExecutor(PARALLEL) as pool:
            codes = list(pool.map(pay, range(PARALLEL)))
        contract = http.get(f"{P}/contracts/{contract_id}", headers=headers).json()

    assert codes.count(201) == 10 and codes.count(422) == 10, codes
    assert Decimal(contract["paid_amount"]) == Decimal("1000.00")


def test_a_matching_run_never_holds_writers_back(world: World) -> None:
    """D5: `POST /matching/run` writes in short transactions, so a concurrent PATCH gets SQLite's write
    lock within the busy timeout this test gives every connection (a few seconds, not the default 30,
    so that the shared test machine's load does not decide) while the run goes on; before the fix the
    run wrote thousands of rows in one transaction and the PATCH failed with "database is locked"."""
    if world.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's single write lock is what a long transaction would hold")
    f = Factory(world)
    needs = [f.need(title=f"盾构机刀盘耐磨需求{i}") for i in range(50)]
    for i in range(70):
        f.achievement(title=f"耐磨滚刀材料成果{i}")
    world.engine.dispose()  # new connections get the short busy timeout
    event.listen(world.engine, "connect", _short_busy_timeout)
    app = create_app(state=AppState(settings=world.settings, engine=world.engine, index=world.index))
    outcomes: list[tuple[int, int, float]] = []  # (PATCH status, matches stored when sent, seconds)

    with (
        live_server(app) as base,
        httpx.Client(base_url=base, timeout=300) as http,
        ThreadPoolExecutor(1) as pool,
    ):
        run = pool.submit(http.post, f"{P}/matching/run", json={"k": 70}, headers=world.headers("broker"))
        n = 0
        while not run.done():
            stored = _matches(world)
            t0 = time.monotonic()
            r = http.patch(
                f"{P}/needs/{needs[n % len(needs)]}",
                json={"title": f"改过的标题{n}"},
                headers=world.headers("enterprise"),
            )
            outcomes.append((r.status_code, stored, round(time.monotonic() - t0, 2)))
            n += 1
        summary = run.result().json()

    total = summary["created"]
    assert total == _matches(world) > 0
    assert all(o[0] == 200 for o in outcomes), [o for o in outcomes if o[0] != 200]
    assert any(0 < stored < total for _, stored, _ in outcomes), "no PATCH overlapped the writing"


def _short_busy_timeout(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.execute("PRAGMA busy_timeout=10000")


def _matches(world: World) -> int:
    with Session(world.engine) as s:
        return int(s.exec(select(func.count()).select_from(Match)).one())
