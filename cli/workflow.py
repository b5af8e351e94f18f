"""Workflow commands: propose matches, assign them to brokers, read statistics, export tables.

techmatch match run [--k 10]
techmatch assign
techmatch stats turnover --by month --year 2025 [--format table|json|csv]
techmatch stats funnel | targets | subsidies --year 2025
techmatch export contracts --format xlsx --out contracts.xlsx
"""

from __future__ import annotations

import json
import sys
import unicodedata
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from enum import Enum, StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from cli.common import EXIT_BAD_INPUT, open_engine, progress_bar, settings
from services.actor import SYSTEM

match_app = typer.Typer(
    help="Propose matches: run the engine and store the top-k suggestions.", no_args_is_help=True
)
stats_app = typer.Typer(
    help="Statistics: turnover, the matching funnel, target progress and subsidies.", no_args_is_help=True
)


class OutputFormat(StrEnum):
    TABLE = "table"
    JSON = "json"
    CSV = "csv"


class FileFormat(StrEnum):
    CSV = "csv"
    XLSX = "xlsx"


FormatOption = Annotated[OutputFormat, typer.Option("--format", "-f", help="table, json or csv")]


def _plain(value: Any) -> Any:
    """JSON-safe: money and other Decimals as exact strings, dates in ISO form."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int, right: bool) -> str:
    gap = " " * (width - _width(text))
    return gap + text if right else text + gap


def _table(rows: Sequence[Mapping[str, Any]]) -> str:
    if not rows:
        return "(no rows)"
    columns = list(dict.fromkeys(k for row in rows for k in row))
    cells = [[str(_plain(row.get(c, "")) if row.get(c) is not None else "") for c in columns] for row in rows]
    numeric = [
        all(isinstance(row.get(c), int | Decimal | float) for row in rows if row.get(c) is not None)
        for c in columns
    ]
    widths = [max(_width(c), *(_width(r[i]) for r in cells)) for i, c in enumerate(columns)]
    lines = ["  ".join(_pad(c, w, False) for c, w in zip(columns, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    for row in cells:
        lines.append("  ".join(_pad(v, w, n) for v, w, n in zip(row, widths, numeric, strict=True)))
    return "\n".join(lines)


def emit(rows: Sequence[Mapping[str, Any]], fmt: OutputFormat) -> None:
    """Print rows as an aligned table, JSON or CSV (UTF-8 with BOM, like the export files)."""
    if fmt == OutputFormat.JSON:
        typer.echo(json.dumps(_plain(list(rows)), ensure_ascii=False, indent=2))
    elif fmt == OutputFormat.CSV:
        from services.exports import rows_to_csv

        sys.stdout.buffer.write(rows_to_csv(rows))
        sys.stdout.flush()
    else:
        typer.echo(_table(rows))


@match_app.command("run")
def match_run(
    k: Annotated[
        int | None,
        typer.Option("--k", help="suggestions per posting (default TECHMATCH_SUGGESTIONS_PER_POSTING)"),
    ] = None,
) -> None:
    """Match every open need (and new achievements the other way); store top-k suggestions idempotently."""
    from services.index import IndexService
    from services.matching import run_matching

    engine = open_engine()
    index = IndexService.from_settings(settings())
    with progress_bar("indexing") as advance:
        index.start(engine, advance)
    summary = run_matching(engine, index, SYSTEM, k=k or settings().suggestions_per_posting)
    index.save()
    typer.echo(json.dumps(_plain(summary), ensure_ascii=False))


def assign() -> None:
    """Assign suggested matches to brokers by field/region skill under capacity, avoiding conflicts."""
    from services.assignment import assign_matches

    summary = assign_matches(open_engine(), SYSTEM)
    typer.echo(json.dumps(_plain(summary), ensure_ascii=False, indent=2))


@stats_app.command("turnover")
def stats_turnover(
    by: Annotated[
        str,
        typer.Option(
            "--by",
            help="year, quarter, month, city, field, contract_type, org, org_kind, broker, sub_center, open_call",
        ),
    ] = "month",
    year: Annotated[int | None, typer.Option(help="calendar year of signing")] = None,
    start: Annotated[datetime | None, typer.Option(formats=["%Y-%m-%d"], help="first signing day")] = None,
    end: Annotated[datetime | None, typer.Option(formats=["%Y-%m-%d"], help="last signing day")] = None,
    field: Annotated[str | None, typer.Option(help="field code, e.g. F02")] = None,
    region: Annotated[str | None, typer.Option(help="region code, e.g. 410100")] = None,
    fmt: FormatOption = OutputFormat.TABLE,
) -> None:
    """Technology-contract turnover (技术合同成交额), cancelled contracts excluded."""
    from services.stats import turnover

    rows = turnover(
        open_engine(),
        group_by=by,
        year=year,
        start=start.date() if start else None,
        end=end.date() if end else None,
        field_code=field,
        region_code=region,
    )
    emit(rows, fmt)


@stats_app.command("funnel")
def stats_funnel(
    year: Annotated[int | None, typer.Option(help="year the matches were proposed")] = None,
    field: Annotated[str | None, typer.Option(help="field code of the need")] = None,
    region: Annotated[str | None, typer.Option(help="region code of the need")] = None,
    fmt: FormatOption = OutputFormat.TABLE,
) -> None:
    """Matches reaching suggested → accepted → negotiating → contracted, with conversion rates."""
    from services.stats import funnel

    result = funnel(open_engine(), year=year, field_code=field, region_code=region)
    emit(result["stages"], fmt)
    if fmt == OutputFormat.TABLE and result["rejected"]:
        typer.echo("rejected by reason: " + ", ".join(f"{k}={v}" for k, v in result["rejected"].items()))


@stats_app.command("targets")
def stats_targets(
    today: Annotated[
        datetime | None, typer.Option(formats=["%Y-%m-%d"], help="measure as of this day")
    ] = None,
    fmt: FormatOption = OutputFormat.TABLE,
) -> None:
    """Progress against every target: goal, actual in the period, value to date, percent, run-rate
    projection and outcome (achieved / missed, on_track / behind)."""
    from services.targets import target_progress

    rows = target_progress(open_engine(), today=today.date() if today else None)
    columns = (
        "code",
        "name",
        "kind",
        "period_end",
        "value",
        "actual",
        "current",
        "percent",
        "projection",
        "outcome",
    )
    emit(rows if fmt != OutputFormat.TABLE else [{c: r[c] for c in columns} for r in rows], fmt)


@stats_app.command("subsidies")
def stats_subsidies(
    year: Annotated[int, typer.Option(help="subsidy year")],
    fmt: FormatOption = OutputFormat.TABLE,
) -> None:
    """Subsidies the policy rules derive from contracts in a year (M1 30% of payments, M2 2%, M3 0.2‰ …)."""
    from services.subsidies import compute_subsidies

    rows = compute_subsidies(open_engine(), year=year)
    columns = (
        "rule_code",
        "beneficiary_name",
        "contract_number",
        "base_amount",
        "rate",
        "cap",
        "subsidy",
        "capped",
    )
    emit(rows if fmt != OutputFormat.TABLE else [{c: r[c] for c in columns} for r in rows], fmt)
    if fmt == OutputFormat.TABLE:
        typer.echo(f"total: {sum((r['subsidy'] for r in rows), Decimal('0.00'))}")


def export(
    table: Annotated[
        str, typer.Argument(help="contracts, payments, matches, targets, subsidies or annual-report")
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="file to write")],
    fmt: Annotated[
        FileFormat | None, typer.Option("--format", "-f", help="csv or xlsx (default: from --out)")
    ] = None,
    year: Annotated[int | None, typer.Option(help="year (needed for subsidies and annual-report)")] = None,
    region: Annotated[str | None, typer.Option(help="region code (annual-report only)")] = None,
) -> None:
    """Write a table as CSV (UTF-8 with BOM, opens in Excel) or as an Excel workbook."""
    from services import exports

    chosen = fmt or (FileFormat.XLSX if out.suffix.lower() == ".xlsx" else FileFormat.CSV)
    engine = open_engine()
    if table == "annual-report":
        if year is None or chosen != FileFormat.XLSX:
            typer.echo(
                "error: annual-report needs --year and the xlsx format (one sheet per table)", err=True
            )
            raise typer.Exit(EXIT_BAD_INPUT)
        payload = exports.tables_to_xlsx(exports.annual_report(engine, year=year, region_code=region))
    else:
        rows = exports.export_table(engine, SYSTEM, table, year=year)
        payload = (
            exports.rows_to_xlsx(rows, table) if chosen == FileFormat.XLSX else exports.rows_to_csv(rows)
        )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(payload)
    typer.echo(f"wrote {out} ({len(payload)} bytes, {chosen.value})")


def register(app: typer.Typer) -> None:
    """Attach the workflow commands to the `techmatch` app."""
    app.add_typer(match_app, name="match")
    app.command("assign")(assign)
    app.add_typer(stats_app, name="stats")
    app.command("export")(export)
