"""Exports of statistics and ledger tables as CSV (UTF-8 with BOM) or Excel, and the annual report."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Response
from fastapi.concurrency import run_in_threadpool

from api.deps import AdminDep, DbDep, require_roles
from api.routers.common import RegionCodeQ
from api.routers.stats import GroupBy, Period, PeriodDep
from models import Role
from services import exports, stats
from services.actor import Actor

router = APIRouter(prefix="/exports", tags=["exports"])

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV = "text/csv; charset=utf-8"
FILE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "the table as a file",
        "content": {
            "text/csv": {"schema": {"type": "string"}},
            XLSX: {"schema": {"type": "string", "format": "binary"}},
        },
    }
}
Table = Literal["turnover", "funnel", "contracts", "payments", "matches", "targets", "subsidies"]
FileFormat = Annotated[Literal["csv", "xlsx"], Query(description="csv (UTF-8 with BOM) or xlsx")]
StatsReader = Annotated[Actor, Depends(require_roles(Role.REGISTRAR))]


def file_response(rows: list[dict[str, Any]], name: str, fmt: str) -> Response:
    if fmt == "xlsx":
        content, media = exports.rows_to_xlsx(rows, name), XLSX
    else:
        content, media = exports.rows_to_csv(rows), CSV
    headers = {"Content-Disposition": f'attachment; filename="{name}.{fmt}"'}
    return Response(content=content, media_type=media, headers=headers)


def _rows(db: Any, actor: Actor, table: Table, period: Period, group_by: GroupBy) -> list[dict[str, Any]]:
    if table == "turnover":
        return stats.turnover(db, group_by=group_by, **vars(period))
    if table == "funnel":
        rows: list[dict[str, Any]] = stats.funnel(db, **vars(period))["stages"]
        return rows
    return exports.export_table(db, actor, table, year=period.year)  # admin only, checked there


@router.get("/annual-report", response_class=Response, responses=FILE_RESPONSES)
async def annual_report(
    _: AdminDep,
    db: DbDep,
    year: Annotated[int, Query(ge=1990, le=2100)],
    region_code: RegionCodeQ = None,
) -> Response:
    """The year's report (科技成果转化年度统计) as one workbook, one sheet per table (admin)."""
    tables = await run_in_threadpool(exports.annual_report, db, year=year, region_code=region_code)
    content = await run_in_threadpool(exports.tables_to_xlsx, tables)
    headers = {"Content-Disposition": f'attachment; filename="annual-report-{year}.xlsx"'}
    return Response(content=content, media_type=XLSX, headers=headers)


@router.get("/{table}", response_class=Response, responses=FILE_RESPONSES)
async def export_table(
    table: Table,
    actor: StatsReader,
    db: DbDep,
    period: PeriodDep,
    format: FileFormat = "csv",
    group_by: GroupBy = "year",
) -> Response:
    """One table as a file: turnover (by `group_by`) and funnel for registrars and admins; contracts,
    payments, matches, targets and subsidies (needs `year`) for admins."""
    rows = await run_in_threadpool(_rows, db, actor, table, period, group_by)
    return await run_in_threadpool(file_response, rows, table, format)  # building a workbook is CPU work
