"""The "1242" scoreboard on the demo data: every 专栏28 goal and the cities' turnover targets (the
relative ones too) have a value computed by their rule, the Excel export holds the same rows, and the
hall, the scoreboard and the statistics API give the same numbers."""

from __future__ import annotations

import io
import shutil
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from api.app import create_app
from api.console import labels
from api.state import AppState
from data.db import create_db_engine
from data.demo import DEMO_PASSWORD
from matcher.config import EngineConfig
from matcher.encoders import EncoderConfig, create_encoder
from services.config import Settings
from services.demo import load_demo
from services.index import IndexService

P = "/api/v1"
GOALS_1242 = ("T02", "T03", "T04", "T05", "T06", "T07")
TURNOVER = ("T01", "T10", "T11", "T12")


@pytest.fixture(scope="module")
def demo_client(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    tmp = tmp_path_factory.mktemp("scoreboard")
    shutil.copy(sqlite_template, tmp / "demo.db")
    url = f"sqlite:///{tmp / 'demo.db'}"
    settings = Settings(
        data_dir=tmp,
        database_url=url,
        encoder="hashing",
        index_backend="numpy",
        secret_key="scoreboard-test-secret-0123456789abcdef",
    )
    engine = create_db_engine(url)
    load_demo(engine)
    index = IndexService(
        create_encoder(EncoderConfig(name="hashing")),
        EngineConfig.for_encoder("hashing", index_backend="numpy"),
        None,
    )
    index.start(engine)
    with TestClient(create_app(state=AppState(settings=settings, engine=engine, index=index))) as client:
        token = client.post(f"{P}/auth/token", data={"username": "admin", "password": DEMO_PASSWORD}).json()
        client.headers["Authorization"] = f"Bearer {token['access_token']}"
        yield client
    engine.dispose()


def _board(client: TestClient) -> dict[str, dict[str, Any]]:
    response = client.get(f"{P}/scoreboard")
    assert response.status_code == 200, response.text
    return {r["code"]: r for r in response.json()["rows"]}


def test_every_goal_has_a_value_by_its_rule_on_the_demo_data(demo_client: TestClient) -> None:
    rows = _board(demo_client)
    for code in GOALS_1242:
        row = rows[code]
        assert row["section"] == "1242" and row["current"] is not None and row["target"] is not None, code
        assert row["rule"] and row["citation"]["sources"] and row["citation"]["quote"], code
        assert Decimal(str(row["current"])) > 0, code  # the demo registries give real counts
    for code in TURNOVER:
        assert rows[code]["section"] == "turnover" and rows[code]["current"] is not None, code
    doubling, faster = rows["T01"], rows["T12"]
    assert doubling["kind"] == "baseline_multiple" and Decimal(doubling["target"]) == 2 * Decimal(
        doubling["baseline"]
    )
    assert (
        faster["kind"] == "relative_growth" and faster["unit"] == "percent" and faster["target"] is not None
    )
    assert faster["reference_region_name"] == "河南省" and faster["outcome"] in ("achieved", "missed")
    assert rows["T03"]["current"] < 8  # counted by rule (certified, trained, active), not the 8 rows on file


def test_the_excel_export_holds_the_board(demo_client: TestClient) -> None:
    response = demo_client.get(f"{P}/scoreboard/export", params={"format": "xlsx"})
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet is not None
    values = list(sheet.iter_rows(values_only=True))
    assert values[0][:3] == ("类别", "编号", "目标") and "计算规则" in values[0] and "依据" in values[0]
    assert {row[1] for row in values[1:]} >= set(GOALS_1242) | set(TURNOVER)


def test_hall_scoreboard_and_statistics_agree(demo_client: TestClient) -> None:
    rows = _board(demo_client)
    hall = demo_client.get("/console/hall/live.json").json()
    totals = demo_client.get(f"{P}/stats/totals").json()
    assert hall["totals"]["member_units"] == str(totals["member_units"]) == str(rows["T04"]["current"])
    assert hall["totals"]["brokers_counted"] == str(totals["brokers_counted"]) == str(rows["T03"]["current"])
    assert hall["totals"]["contract_amount"] == labels.wan(Decimal(totals["contract_amount"]))
    since_2016 = demo_client.get(
        f"{P}/stats/turnover", params={"group_by": "year", "start": "2016-01-01"}
    ).json()
    tech = sum((Decimal(r["tech_transaction_amount"]) for r in since_2016), Decimal(0))
    assert Decimal(rows["T02"]["current"]) == tech
    shown = {t["code"]: t for t in hall["targets"]}
    for code in ("T02", "T03", "T04", "T10", "T11"):
        row = rows[code]
        expected = labels.amount(row["current"]) if row["unit"] == "yuan" else str(row["current"])
        assert shown[code]["actual"] == expected, code
    assert shown["T02"]["goal"] == "100.00 亿元" and shown["T10"]["goal"] == "800.00 亿元"
    assert shown["T12"]["actual"] == f"年均增速 {Decimal(rows['T12']['current']):.2f}%"
    progress = {t["code"]: t for t in demo_client.get(f"{P}/targets").json()}
    assert all(progress[c]["current"] == rows[c]["current"] for c in GOALS_1242 + TURNOVER)


def test_the_hall_leads_with_this_years_targets(demo_client: TestClient) -> None:
    targets = demo_client.get("/console/hall/live.json").json()["targets"]
    flags = [t["current_year"] for t in targets]
    assert flags == sorted(flags, reverse=True) and flags[0]  # T09 (2025–2027) runs this year
    ended = [t for t in targets if not t["current_year"]]
    assert all(t["outcome"] in ("achieved", "missed") for t in ended)
