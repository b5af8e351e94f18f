"""Exports (CSV with BOM, Excel, the annual report) and the workflow CLI commands."""

from __future__ import annotations

import io
import json
import shutil
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
import typer
from openpyxl import load_workbook
from typer.testing import CliRunner

from data.db import create_db_engine
from models.schemas import AchievementCreate, NeedCreate, PaymentCreate, RegistrationCreate
from services import contracts, exports, postings, stats
from services.errors import InvalidInputError
from services.targets import load_reference_targets_and_rules
from tests.services.conftest import World, seed_world

D = Decimal  # short for the many money literals below

ROWS = [
    {"名称": "郑州工业大学", "amount": D("12345678.90"), "day": date(2025, 3, 1), "flag": True, "note": None},
    {"名称": "某企业", "amount": D("0.01"), "day": date(2025, 12, 31), "flag": False, "extra": {"a": "中"}},
]


def test_csv_has_a_bom_exact_money_and_every_column() -> None:
    data = exports.rows_to_csv(ROWS)
    assert data.startswith(b"\xef\xbb\xbf")
    lines = data.decode("utf-8-sig").splitlines()
    assert lines[0] == "名称,amount,day,flag,note,extra"
    assert lines[1] == "郑州工业大学,12345678.90,2025-03-01,true,,"
    assert lines[2] == '某企业,0.01,2025-12-31,false,,"{""a"": ""中""}"'


def test_xlsx_round_trips_values() -> None:
    book = load_workbook(io.BytesIO(exports.rows_to_xlsx(ROWS, "合同/2025")))
    sheet = book.active
    assert sheet.title == "合同_2025"
    values = list(sheet.iter_rows(values_only=True))
    assert values[0] == ("名称", "amount", "day", "flag", "note", "extra")
    assert values[1][0] == "郑州工业大学" and D(str(values[1][1])) == D("12345678.90")
    assert values[1][2].date() == date(2025, 3, 1) and values[1][3] is True
    assert sheet.cell(row=2, column=2).number_format == "#,##0.00"


def _ledger(world: World) -> None:
    e, admin = world.engine, world.actor["admin"]
    load_reference_targets_and_rules(e)
    a = contracts.create_contract(
        e, admin, world.standalone("A-1", "ent", "uni", "8000000.00", date(2024, 5, 1))
    )
    b = contracts.create_contract(
        e, admin, world.standalone("B-1", "ent", "uni", "10000000.00", date(2025, 5, 1), is_open_call=True)
    )
    contracts.add_payment(e, admin, b["id"], PaymentCreate(amount=D("10000000.00"), paid_on=date(2025, 6, 1)))
    contracts.register_contract(
        e,
        world.actor["reg1"],
        a["id"],
        RegistrationCreate(registered_amount=D("8000000.00"), registered_on=date(2025, 1, 2)),
    )


def test_annual_report_tables(world: World) -> None:
    _ledger(world)
    report = exports.annual_report(world.engine, year=2025)
    assert {
        "summary",
        "by_month",
        "by_city",
        "by_sub_center",
        "top_sellers",
        "funnel",
        "targets",
        "subsidies",
    } <= set(report)
    prior, current = report["summary"]
    assert (prior["contract_amount"], current["contract_amount"], current["growth_percent"]) == (
        D("8000000.00"),
        D("10000000.00"),
        D("25.00"),
    )
    assert {(r["rule_code"], r["subsidy"]) for r in report["subsidies"]} == {
        ("M1", D("3000000.00")),
        ("M2", D("160000.00")),
        ("M3", D("1600.00")),
    }
    assert all(t["period_start"].year <= 2025 <= t["period_end"].year for t in report["targets"])
    kaifeng = exports.annual_report(world.engine, year=2025, region_code="410200")
    assert kaifeng["summary"][1]["contracts"] == 0 and kaifeng["subsidies"] == []
    rows = exports.export_table(world.engine, world.actor["admin"], "contracts", year=2025)
    assert [(r["contract_number"], r["paid_amount"], r["seller"]) for r in rows] == [
        ("B-1", D("10000000.00"), "郑州工业大学")
    ]
    with pytest.raises(InvalidInputError):
        exports.export_table(world.engine, world.actor["admin"], "nope")


@pytest.fixture
def cli_world(sqlite_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    """A migrated SQLite file the CLI reaches through TECHMATCH_* settings."""
    from cli import common

    path = tmp_path / "cli.db"
    shutil.copy(sqlite_template, path)
    monkeypatch.setenv("TECHMATCH_DATABASE_URL", f"sqlite:///{path}")
    monkeypatch.setenv("TECHMATCH_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("TECHMATCH_INDEX_BACKEND", "numpy")
    monkeypatch.setenv("TECHMATCH_ENCODER", "hashing")
    common.settings.cache_clear()
    engine = create_db_engine(f"sqlite:///{path}")
    yield seed_world(engine)
    engine.dispose()
    common.settings.cache_clear()


def _app() -> typer.Typer:
    from cli import main, workflow

    if not any(g.name == "stats" for g in main.app.registered_groups):
        workflow.register(main.app)
    return main.app


def test_cli_stats_and_exports(cli_world: World, tmp_path: Path) -> None:
    _ledger(cli_world)
    runner, app = CliRunner(), _app()
    out = runner.invoke(app, ["stats", "turnover", "--by", "month", "--year", "2025", "--format", "json"])
    assert out.exit_code == 0, out.output
    assert json.loads(out.output) == [
        {
            **r,
            "contract_amount": str(r["contract_amount"]),
            "registered_amount": str(r["registered_amount"]),
            "tech_transaction_amount": str(r["tech_transaction_amount"]),
        }
        for r in stats.turnover(cli_world.engine, group_by="month", year=2025)
    ]
    table = runner.invoke(app, ["stats", "subsidies", "--year", "2025"])
    assert table.exit_code == 0 and "3000000.00" in table.output and "total: 3161600.00" in table.output
    for args in (
        ["stats", "funnel"],
        ["stats", "targets", "--today", "2025-06-30"],
        ["stats", "turnover", "--by", "city", "--format", "csv"],
    ):
        result = runner.invoke(app, args)
        assert result.exit_code == 0, (args, result.output)
    bad = runner.invoke(app, ["stats", "turnover", "--by", "planet"])
    assert bad.exit_code != 0
    target = tmp_path / "out" / "contracts.xlsx"
    written = runner.invoke(app, ["export", "contracts", "--out", str(target)])
    assert written.exit_code == 0 and load_workbook(target).active.max_row == 3
    report = runner.invoke(
        app, ["export", "annual-report", "--year", "2025", "--out", str(tmp_path / "r.xlsx")]
    )
    assert report.exit_code == 0 and "summary" in load_workbook(tmp_path / "r.xlsx").sheetnames
    for command in (["match", "run"], ["assign"], ["stats", "turnover"], ["export"]):
        assert runner.invoke(app, [*command, "--help"]).exit_code == 0


def test_cli_match_and_assign(cli_world: World) -> None:
    from cli.common import settings
    from services.index import IndexService

    index = IndexService.from_settings(settings())
    e, a = cli_world.engine, cli_world.actor
    postings.create_need(
        e,
        index,
        a["ent"],
        NeedCreate(title="盾构滚刀磨损", description="滚刀磨损快，需要耐磨材料。", field_code="F02"),
    )
    postings.create_achievement(
        e,
        index,
        a["uni"],
        AchievementCreate(title="耐磨滚刀材料", abstract="耐磨滚刀硬质合金。", field_code="F02"),
    )
    runner, app = CliRunner(), _app()
    run = runner.invoke(app, ["match", "run", "--k", "3"])
    assert run.exit_code == 0, run.output
    assert json.loads(run.output.strip().splitlines()[-1])["created"] == 1
    assigned = runner.invoke(app, ["assign"])
    assert assigned.exit_code == 0 and json.loads(assigned.output)["assigned"] == 1


def test_xlsx_strips_control_characters_from_stored_text() -> None:
    import io

    from openpyxl import load_workbook

    from services.exports import rows_to_xlsx

    book = load_workbook(io.BytesIO(rows_to_xlsx([{"title": "滚刀\x0b材料\x00"}], "t")))
    assert book.active is not None
    assert book.active["A2"].value == "滚刀材料"
