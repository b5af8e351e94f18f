"""The "1242" scoreboard: every 专栏28 goal and the cities' turnover targets with goal, current value by
its rule, progress, projection, verdict, rule text and citation; also as an Excel or CSV file."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Depends, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel

from api.deps import DbDep, require_roles
from api.routers.exports import FILE_RESPONSES, FileFormat, file_response
from models import Role
from services import scoreboard as board
from services.actor import Actor

router = APIRouter(prefix="/scoreboard", tags=["statistics"])
Reader = Annotated[Actor, Depends(require_roles(Role.REGISTRAR))]


class Citation(BaseModel):
    sources: list[str]
    documents: list[str]
    quote: str | None


class ScoreRow(BaseModel):
    section: str
    code: str
    scope: str
    name: str
    region_name: str | None
    metric: str
    kind: str
    unit: str
    period_start: date
    period_end: date
    state: str
    target: int | Decimal | None
    current: int | Decimal | None
    progress: Decimal | None
    actual_in_period: int | Decimal | None
    projection: Decimal | None
    outcome: str
    baseline: int | Decimal | None
    reference_region_name: str | None
    rule: str
    citation: Citation


class Scoreboard(BaseModel):
    as_of: date
    sections: dict[str, str]
    rows: list[ScoreRow]


@router.get("")
def get_scoreboard(_: Reader, db: DbDep) -> Scoreboard:
    """Every goal with its current value by rule (registrars and admins)."""
    return Scoreboard.model_validate(board.scoreboard(db))


@router.get("/export", response_class=Response, responses=FILE_RESPONSES)
async def export_scoreboard(_: Reader, db: DbDep, format: FileFormat = "xlsx") -> Response:
    """The scoreboard as an Excel workbook (default) or CSV, with Chinese headers."""
    data = await run_in_threadpool(board.scoreboard, db)
    return await run_in_threadpool(
        file_response, board.export_rows(data), "scoreboard", format
    )  # off the loop
