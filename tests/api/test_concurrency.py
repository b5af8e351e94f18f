"""Money under real concurrency: parallel HTTP requests against a running server (uvicorn, SQLite and
PostgreSQL) never pay a contract beyond its amount (issue 19, D1)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from threading import Barrier

import httpx

from api.app import create_app
from api.state import AppState
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
