"""The administrator dashboard (管理驾驶舱): turnover charts by month, city, field and contract type,
target progress, the matching funnel, subsidy tables, a year filter and CSV / Excel exports.

Reading follows the REST API: statistics and targets are for administrators and registration agencies
(as GET /api/v1/stats and /targets); subsidies and every change are for administrators only."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.engine import Engine
from starlette.concurrency import run_in_threadpool

from api.console import labels
from api.console.tables import CHARTS, TABLES, chart_data
from api.console.web import ConsoleRoute, ConsoleUser, chart_library_url, db_engine, render, require
from models import Role
from services import exports, stats
from services.errors import NotFoundError

router = APIRouter(prefix="/admin", route_class=ConsoleRoute)
ReaderDep = Annotated[ConsoleUser, Depends(require(Role.REGISTRAR))]
Year = Annotated[int | None, Query(ge=1990, le=2100)]
FIRST_YEAR = 2016


def _years(db: Engine) -> list[int]:
    this_year = datetime.now(UTC).year
    seen = {int(r["key"]) for r in stats.turnover(db, group_by="year") if str(r["key"]).isdigit()}
    return sorted(seen | set(range(max(FIRST_YEAR, min(seen | {this_year})), this_year + 1)), reverse=True)


def dashboard_data(db: Engine, year: int, *, admin: bool) -> dict[str, Any]:
    """Every table of the dashboard for one year (subsidies only for administrators)."""
    shown = {name: table for name, table in TABLES.items() if admin or not table.admin_only}
    rows = {name: table.rows(db, year) for name, table in shown.items()}
    tables = {name: {"title": t.title, "columns": t.columns, "rows": rows[name]} for name, t in shown.items()}
    charts = {
        name: chart_data(rows[name], kind, months_of=year if name == "turnover_month" else None)
        for name, kind in CHARTS
    }
    months = rows["turnover_month"]
    return {
        "tables": tables,
        "charts": charts,
        "target_views": [labels.target_view(t) for t in rows["targets"]],
        "funnel": stats.funnel(db, year=year),
        "year_totals": {
            "contracts": sum(int(r["contracts"]) for r in months),
            "contract_amount": sum((r["contract_amount"] for r in months), stats.ZERO),
            "tech_transaction_amount": sum((r["tech_transaction_amount"] for r in months), stats.ZERO),
            "registered_amount": sum((r["registered_amount"] for r in months), stats.ZERO),
        },
    }


@router.get("", response_class=HTMLResponse)
async def dashboard(request: Request, user: ReaderDep, year: Year = None) -> Response:
    db = db_engine(request)
    chosen = year or datetime.now(UTC).year
    data = await run_in_threadpool(dashboard_data, db, chosen, admin=user.actor.is_admin)
    years = await run_in_threadpool(_years, db)
    context = {
        **data,
        "year": chosen,
        "years": years if chosen in years else sorted([*years, chosen], reverse=True),
        "chart_js": chart_library_url(),
        "is_admin": user.actor.is_admin,
    }
    return render(request, "admin.html", context)


@router.get("/export/{name}.{fmt}")
async def export_table(
    request: Request, user: ReaderDep, name: str, fmt: Literal["csv", "xlsx"], year: Year = None
) -> Response:
    """Download one dashboard table as CSV (UTF-8 with BOM, opens in Excel) or as an Excel workbook."""
    table = TABLES.get(name)
    if table is None:
        raise NotFoundError(f"no table {name!r}")
    if table.admin_only:
        user.actor.require()
    chosen = year or datetime.now(UTC).year
    rows = await run_in_threadpool(table.rows, db_engine(request), chosen)
    shown = [{title: row.get(key) for key, title in table.columns} for row in rows]  # Chinese headers
    filename = f"{name}_{chosen}.{fmt}"
    if fmt == "csv":
        body = await run_in_threadpool(exports.rows_to_csv, shown)  # never build a file on the event loop
        media = "text/csv; charset=utf-8"
    else:
        body = await run_in_threadpool(exports.rows_to_xlsx, shown, table.title)
        media = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return Response(
        body, media_type=media, headers={"Content-Disposition": f'attachment; filename="{filename}"'}
    )
