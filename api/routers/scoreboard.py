"""The "1242" scoreboard: every 专栏28 goal and the cities' turnover targets with goal, current value by
its rule, progress, projection, verdict, rule text and citation; also as an Excel or CSV file."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any

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


EXPORT_COLUMNS = (
    ("section_name", "类别"),
    ("code", "编号"),
    ("name", "目标"),
    ("region_name", "地区"),
    ("period", "期限"),
    ("target", "目标值"),
    ("current", "当前值"),
    ("progress", "完成率（%）"),
    ("projection", "按当前进度预计（期末）"),
    ("outcome_label", "结论"),
    ("rule", "计算规则"),
    ("citation_text", "依据"),
)
OUTCOME = {
    "achieved": "已完成",
    "missed": "未完成",
    "on_track": "进度达标",
    "behind": "进度落后",
    "upcoming": "未开始",
    "unmeasured": "无法计算",
}


def export_rows(data: dict[str, Any]) -> list[dict[str, Any]]:
    """The board as table rows with Chinese headers (the file and the console show the same)."""
    out = []
    for r in data["rows"]:
        c = r["citation"]
        flat = {
            **r,
            "section_name": data["sections"][r["section"]],
            "period": f"{r['period_start']}～{r['period_end']}",
            "outcome_label": OUTCOME.get(r["outcome"], r["outcome"]),
            "citation_text": f"《{'》《'.join(c['documents'])}》{'、'.join(c['sources'])}：{c['quote'] or ''}",
        }
        out.append({title: flat.get(key) for key, title in EXPORT_COLUMNS})
    return out


@router.get("")
def get_scoreboard(_: Reader, db: DbDep) -> Scoreboard:
    """Every goal with its current value by rule (registrars and admins)."""
    return Scoreboard.model_validate(board.scoreboard(db))


@router.get("/export", response_class=Response, responses=FILE_RESPONSES)
async def export_scoreboard(_: Reader, db: DbDep, format: FileFormat = "xlsx") -> Response:
    """The scoreboard as an Excel workbook (default) or CSV, with Chinese headers."""
    data = await run_in_threadpool(board.scoreboard, db)
    return file_response(export_rows(data), "scoreboard", format)
