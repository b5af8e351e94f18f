"""No blocking work on the event loop (issue 19, D13): an `async` endpoint that reads the database or
builds a file on the loop stalls every other request meanwhile (a big Excel export held `/health` for
over a minute). Every database statement and every file build of the async endpoints is recorded with
whether it ran on the loop's thread; none may."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event

from services import exports
from tests.api.conftest import PASSWORD, World
from tests.api.factory import Factory
from tests.console.conftest import login

P = "/api/v1"


def _on_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def test_async_endpoints_keep_database_and_file_work_off_the_loop(
    client: TestClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    f = Factory(world)
    f.contract()
    f.match()
    on_loop: list[str] = []

    def statement(_conn: Any, _cursor: Any, sql: str, *_: Any) -> None:
        if _on_loop():
            on_loop.append(sql.split("\n")[0][:80])

    def watched(name: str, build: Callable[..., bytes]) -> Callable[..., bytes]:
        def wrapper(*args: Any, **kwargs: Any) -> bytes:
            if _on_loop():
                on_loop.append(f"exports.{name}")
            return build(*args, **kwargs)

        return wrapper

    for name in ("rows_to_csv", "rows_to_xlsx", "tables_to_xlsx"):
        monkeypatch.setattr(exports, name, watched(name, getattr(exports, name)))
    event.listen(world.engine, "before_cursor_execute", statement)
    admin = world.headers("admin")
    requests: list[tuple[str, str, dict[str, Any]]] = [
        ("GET", f"{P}/exports/matches", {"format": "xlsx"}),
        ("GET", f"{P}/exports/contracts", {"format": "csv"}),
        ("GET", f"{P}/exports/turnover", {"format": "xlsx", "group_by": "month"}),
        ("GET", f"{P}/exports/annual-report", {"year": 2026}),
        ("GET", f"{P}/subsidies", {"year": 2026}),
        ("GET", "/console/hall/live.json", {}),
        ("GET", f"{P}/scoreboard/export", {"format": "xlsx"}),
    ]
    for method, path, params in requests:
        r = client.request(method, path, params=params, headers=admin)
        assert r.status_code == 200, (path, r.text)
    token = client.post(f"{P}/auth/token", data={"username": "admin", "password": PASSWORD})
    assert token.status_code == 200
    csrf = login(client, "admin", PASSWORD)
    for path in (
        "/console/admin/export/turnover_month.xlsx",
        "/console/admin/export/turnover_city.csv",
        "/console/admin/scoreboard.xlsx",
    ):
        assert client.get(path).status_code == 200, path
    target = client.post(
        "/console/admin/targets", data={"csrf_token": csrf, "code": "T-loop"}, follow_redirects=False
    )
    assert target.status_code in (303, 422), target.text
    event.remove(world.engine, "before_cursor_execute", statement)
    assert not on_loop, on_loop
