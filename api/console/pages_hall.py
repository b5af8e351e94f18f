"""The two public halls: the trading hall (交易大厅: recent deals, live totals against targets, refreshed by
polling a small JSON endpoint) and the achievement exhibition (成果展示: browse and search)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from sqlalchemy.engine import Engine
from starlette.concurrency import run_in_threadpool

from api.console import labels
from api.console.queries import exhibition
from api.console.web import PUBLIC_ACTOR, ConsoleRoute, db_engine, render
from models import Maturity
from services import contracts, stats, targets

router = APIRouter(route_class=ConsoleRoute)

BOARD_SIZE = 15
POLL_SECONDS = 5
EXHIBITION_PAGE = 12


def _board(db: Engine) -> list[dict[str, Any]]:
    return [
        {
            "id": row["id"],
            "title": row["title"],
            "contract_type": row["contract_type"],
            "field": row["field_name"],
            "region": row["region_name"],
            "buyer": row["buyer"],
            "seller": row["seller"],
            "amount": labels.wan(row["contract_amount"]),
            "signed_on": labels.day(row["signed_on"]),
            "registered": bool(row["registered"]),
        }
        for row in contracts.recent_contracts(db, BOARD_SIZE)
    ]


def _totals(db: Engine) -> dict[str, str]:
    raw = stats.totals(db)
    year = datetime.now(UTC).year
    this_year = stats.turnover(db, group_by="year", year=year)
    year_amount = this_year[0]["contract_amount"] if this_year else 0
    return {
        "contracts": str(raw["contracts"]),
        "contract_amount": labels.wan(raw["contract_amount"]),
        "tech_transaction_amount": labels.wan(raw["tech_transaction_amount"]),
        "registered_amount": labels.wan(raw["registered_amount"]),
        "year_amount": labels.wan(year_amount),
        "year": str(year),
        "open_needs": str(raw["open_needs"]),
        "open_achievements": str(raw["open_achievements"]),
        "active_brokers": str(raw["active_brokers"]),
        "brokers_counted": str(raw["brokers_counted"]),
        "member_units": str(raw["member_units"]),
    }


_STATE_ORDER = {"running": 0, "upcoming": 1, "ended": 2}


def _targets(db: Engine) -> list[dict[str, Any]]:
    """Every target as text and a 0–100 bar: this year's first, then running and upcoming ones, then
    the ended ones (most recent first) with whether they were achieved."""
    items = sorted(
        targets.target_progress(db),
        key=lambda t: (-t["period_end"].toordinal() if t["state"] == "ended" else 0, t["code"]),
    )
    views = [labels.target_view(item) for item in items]
    order = {v["code"]: _STATE_ORDER.get(item["state"], 3) for v, item in zip(views, items, strict=True)}
    return sorted(views, key=lambda v: (not v["current_year"], order[v["code"]]))


def hall_payload(db: Engine) -> dict[str, Any]:
    """Everything the hall shows; the page renders it once and the script refreshes it."""
    return {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "totals": _totals(db),
        "targets": _targets(db),
        "board": _board(db),
    }


@router.get("/hall", response_class=HTMLResponse)
async def hall_page(request: Request) -> Response:
    payload = await run_in_threadpool(hall_payload, db_engine(request))
    return render(request, "hall.html", {**payload, "poll_seconds": POLL_SECONDS})


@router.get("/hall/live.json")
async def hall_live(request: Request) -> JSONResponse:
    """The hall's live figures; polled every few seconds by hall.js. Public, never cached."""
    payload = await run_in_threadpool(hall_payload, db_engine(request))
    return JSONResponse(payload, headers={"Cache-Control": "no-store"})


@router.get("/achievements", response_class=HTMLResponse)
def achievements_page(
    request: Request,
    field: Annotated[str | None, Query(max_length=16)] = None,
    region: Annotated[str | None, Query(max_length=32)] = None,
    maturity: Annotated[Maturity | None, Query()] = None,
    q: Annotated[str | None, Query(max_length=100)] = None,
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
) -> Response:
    """成果展示: open achievements by field, region, maturity and a title search."""
    result = exhibition(
        db_engine(request),
        PUBLIC_ACTOR,
        field_code=field or None,
        region_code=region or None,
        maturity=maturity,
        q=(q or "").strip() or None,
        offset=(page - 1) * EXHIBITION_PAGE,
        limit=EXHIBITION_PAGE,
    )
    context = {
        "items": result.items,
        "total": result.total,
        "page": page,
        "pages": max(1, -(-result.total // EXHIBITION_PAGE)),
        "filters": {
            "field": field or "",
            "region": region or "",
            "maturity": maturity.value if maturity else "",
            "q": q or "",
        },
        "maturities": [m.value for m in Maturity],
    }
    return render(request, "achievements.html", context)
