"""The "1242" scoreboard: every goal of 专栏28 and the cities' turnover targets, each with its goal, the
value its rule gives today, progress, the run-rate projection, the verdict for its period, the rule in
words and the line of the policy document it comes from.

Sections: ``1242`` = the Zhengzhou Center's goals (scope ``center``, citing 专栏28); ``turnover`` = regional turnover
targets (a money metric in a province, city or county); ``other`` = the remaining targets. Values come
from services.targets (one measurement for the hall, the dashboard and this board).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy.engine import Engine

from data.reference import CITATION_PATTERN, load_documents
from models import TargetKind, TargetMetric
from models.enums import MONEY_METRICS
from models.types import utc_now
from services.registry_rules import RULES as REGISTRY_RULES
from services.targets import target_progress

__all__ = ["EXPORT_COLUMNS", "OUTCOME", "SECTIONS", "export_rows", "scoreboard", "scoreboard_rows"]

SECTIONS = {"1242": "郑州中心“1242”目标（专栏28）", "turnover": "技术合同成交额目标", "other": "其他目标"}
_LEDGER_RULES = {
    TargetMetric.CONTRACT_TURNOVER: "已签订且未解除的技术合同的合同成交额之和，按签订日期计入需求方所在地区",
    TargetMetric.TECHNOLOGY_TRANSACTION_AMOUNT: "已签订且未解除的技术合同中的技术交易额之和，按签订日期计入",
    TargetMetric.REGISTERED_TURNOVER: "经认定登记的成交额之和，按登记日期计入",
    TargetMetric.CONTRACTS: "已签订且未解除的技术合同数",
    TargetMetric.ACHIEVEMENTS_MATCHED: "经纪人审核通过（已引荐）的对接成果数，每项成果只计一次",
    TargetMetric.SUB_CENTERS: "登记为分中心的单位数",
}
_COMPARATOR = {"gt": "高于", "ge": "不低于"}


_COLUMN_28 = ("000", 739, 749)
"""专栏28 of the Henan 13th-FYP plan: file 000, lines 739–749 of the seeds (the "1242" goals)."""


def _cites_column_28(source: str) -> bool:
    for citation in source.split(","):
        found = CITATION_PATTERN.match(citation.strip())
        if found and found["seed"] == _COLUMN_28[0] and _COLUMN_28[1] <= int(found["start"]) <= _COLUMN_28[2]:
            return True
    return False


def _section(row: dict[str, Any]) -> str:
    if row["scope"] == "center" and _cites_column_28(str(row["source"])):
        return "1242"
    if row["metric"] in MONEY_METRICS and row["scope"] in ("province", "city", "county"):
        return "turnover"
    return "other"


def rule_text(row: dict[str, Any]) -> str:
    """How the row's value is counted, in Chinese."""
    metric = TargetMetric(row["metric"])
    base = REGISTRY_RULES.get(metric.value) or _LEDGER_RULES[metric]
    if row["kind"] == TargetKind.BASELINE_MULTIPLE:
        factor = Decimal(row["factor"]).normalize()
        return f"{base}；目标 = {row['baseline_year']} 年全年值 × {factor}，完成值取期内最近一年（当年按已过天数年化）"
    if row["kind"] == TargetKind.RELATIVE_GROWTH:
        start = row["baseline_year"] or row["period_start"].year - 1
        return (
            f"{base}；年均增速 = (期内最近一年 ÷ {start} 年)^(1/年数) − 1（当年按已过天数年化），"
            f"须{_COMPARATOR[row['comparator']]}{row['reference_region_name']}同期年均增速"
        )
    return base


def _citation(row: dict[str, Any]) -> dict[str, Any]:
    sources = [s.strip() for s in str(row["source"]).split(",") if s.strip()]
    documents = load_documents()
    titles = [documents.get(s.split(":")[0], "") for s in sources]
    return {"sources": sources, "documents": sorted({t for t in titles if t}), "quote": row.get("quote")}


def _progress_percent(current: Any, goal: Any, kind: str) -> Decimal | None:
    if kind == TargetKind.RELATIVE_GROWTH or goal in (None, 0) or current is None:
        return None
    return (Decimal(current) * 100 / Decimal(goal)).quantize(Decimal("0.01"))


def scoreboard_rows(db: Engine, *, today: date | None = None) -> list[dict[str, Any]]:
    """Every unretired target as a scoreboard row, 1242 goals first, then turnover targets, then others."""
    rows = []
    for t in target_progress(db, today=today):
        section = _section(t)
        rows.append(
            {
                "section": section,
                "code": t["code"],
                "scope": t["scope"],
                "name": t["name"],
                "region_name": t["region_name"],
                "metric": t["metric"],
                "kind": t["kind"],
                "unit": t["unit"],
                "period_start": t["period_start"],
                "period_end": t["period_end"],
                "state": t["state"],
                "target": t["value"],
                "current": t["current"],
                "progress": _progress_percent(t["current"], t["value"], t["kind"]),
                "actual_in_period": t["actual"],
                "projection": t["projection"],
                "outcome": t["outcome"],
                "baseline": t["baseline"],
                "reference_region_name": t["reference_region_name"],
                "rule": rule_text(t),
                "citation": _citation(t),
            }
        )
    order = list(SECTIONS)
    return sorted(rows, key=lambda r: (order.index(r["section"]), r["code"]))


def scoreboard(db: Engine, *, today: date | None = None) -> dict[str, Any]:
    """The board: rows plus the day it was computed for."""
    day = today or utc_now().date()
    return {"as_of": day, "sections": SECTIONS, "rows": scoreboard_rows(db, today=day)}


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
