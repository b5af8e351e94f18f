"""The dashboard's tables: which rows each one holds and its Chinese column headers, shared by the page
and by the CSV / Excel exports so that what is downloaded is what is shown."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Engine

from api.console import labels
from services import call_stats, stats, subsidies, targets

Columns = tuple[tuple[str, str], ...]

TURNOVER_COLUMNS: Columns = (
    ("label", "分组"),
    ("contracts", "合同数"),
    ("contract_amount", "合同成交额（元）"),
    ("tech_transaction_amount", "技术交易额（元）"),
    ("registered_amount", "登记成交额（元）"),
)
TARGET_COLUMNS: Columns = (
    ("code", "编号"),
    ("name", "目标"),
    ("metric_label", "指标"),
    ("period_start", "起始日期"),
    ("period_end", "截止日期"),
    ("value", "目标值"),
    ("actual", "完成值"),
    ("percent", "完成率（%）"),
    ("projection", "按当前进度预计"),
    ("on_track_label", "是否达标"),
)
FUNNEL_COLUMNS: Columns = (
    ("label", "阶段"),
    ("count", "推荐数"),
    ("rate_from_previous", "较上一阶段（%）"),
    ("rate_from_start", "较推荐阶段（%）"),
    ("contract_amount", "对应合同额（元）"),
)
SUBSIDY_COLUMNS: Columns = (
    ("rule_code", "规则"),
    ("rule_name", "规则名称"),
    ("beneficiary_name", "受补单位"),
    ("contract_number", "合同编号"),
    ("base_amount", "计算基数（元）"),
    ("rate", "比例"),
    ("cap", "上限（元）"),
    ("subsidy", "补贴金额（元）"),
    ("capped_label", "是否封顶"),
)


CALL_COLUMNS: Columns = (("label", "分组"), ("count", "数量"))
CALL_STATUS_TEXT = {
    "draft": "草稿",
    "published": "征集中",
    "closed": "已截止",
    "under_review": "评审中",
    "awarded": "已揭榜",
    "in_progress": "攻关中",
    "completed": "已完成",
    "failed": "未成功",
    "cancelled": "已撤榜",
}


@dataclass(frozen=True)
class Table:
    title: str
    columns: Columns
    rows: Callable[[Engine, int], list[dict[str, Any]]]
    admin_only: bool = False


def _turnover(group_by: str) -> Callable[[Engine, int], list[dict[str, Any]]]:
    return lambda db, year: stats.turnover(db, group_by=group_by, year=year)


def target_rows(db: Engine, _year: int = 0) -> list[dict[str, Any]]:
    return [
        {
            **t,
            "metric_label": labels.TARGET_METRIC.get(t["metric"], t["metric"]),
            "on_track_label": "是" if t["on_track"] else "否",
        }
        for t in targets.target_progress(db)
    ]


def funnel_rows(db: Engine, year: int) -> list[dict[str, Any]]:
    stages: list[dict[str, Any]] = stats.funnel(db, year=year)["stages"]
    return stages


def subsidy_rows(db: Engine, year: int) -> list[dict[str, Any]]:
    return [
        {**r, "capped_label": "是" if r["capped"] else "否"}
        for r in subsidies.compute_subsidies(db, year=year)
    ]


def call_rows(db: Engine, year: int) -> list[dict[str, Any]]:
    """揭榜挂帅 calls by form and status, scenes by category, and the calls' money in the year."""
    summary = call_stats.summary(db, year=year)
    rows: list[dict[str, Any]] = [
        {"label": f"榜单 · {form}", "count": n} for form, n in summary["by_form"].items()
    ]
    rows += [
        {"label": f"榜单 · {CALL_STATUS_TEXT.get(status, status)}", "count": n}
        for status, n in summary["by_status"].items()
        if n
    ]
    rows += [
        {"label": f"场景 · {category}", "count": n}
        for category, n in summary["scenes"]["by_category"].items()
    ]
    rows += [
        {"label": f"{year} 年揭榜合同额（万元）", "count": labels.wan_number(summary["awarded_amount"])},
        {"label": f"{year} 年揭榜拨付额（万元）", "count": labels.wan_number(summary["paid_amount"])},
        {"label": f"{year} 年揭榜合同占成交额（%）", "count": str(summary["share_of_turnover"])},
    ]
    return rows


TABLES: dict[str, Table] = {
    "turnover_month": Table("按月份统计的技术合同成交额", TURNOVER_COLUMNS, _turnover("month")),
    "turnover_city": Table("按地市统计的技术合同成交额", TURNOVER_COLUMNS, _turnover("city")),
    "turnover_field": Table("按技术领域统计的技术合同成交额", TURNOVER_COLUMNS, _turnover("field")),
    "turnover_contract_type": Table(
        "按合同类型统计的技术合同成交额", TURNOVER_COLUMNS, _turnover("contract_type")
    ),
    "targets": Table("目标完成情况", TARGET_COLUMNS, target_rows),
    "funnel": Table("撮合漏斗", FUNNEL_COLUMNS, funnel_rows),
    "subsidies": Table("政策补贴测算", SUBSIDY_COLUMNS, subsidy_rows, admin_only=True),
    "turnover_open_call": Table("揭榜挂帅合同与其他合同", TURNOVER_COLUMNS, _turnover("open_call")),
    "calls": Table("揭榜挂帅榜单与应用场景", CALL_COLUMNS, call_rows),
}
CHARTS = (
    ("turnover_month", "bar"),
    ("turnover_city", "bar"),
    ("turnover_field", "bar"),
    ("turnover_contract_type", "doughnut"),
)


def chart_data(rows: list[dict[str, Any]], kind: str, *, months_of: int | None = None) -> dict[str, Any]:
    """Labels and amounts in 万元 as decimal strings (the script turns them into numbers to draw).
    With ``months_of`` the rows are monthly and every month of that year gets a bar, zero if empty."""
    if months_of is not None:
        by_key = {r["key"]: r for r in rows}
        keys = [f"{months_of}-{m:02d}" for m in range(1, 13)]
        return {
            "type": kind,
            "labels": [f"{m}月" for m in range(1, 13)],
            "values": [labels.wan_number(by_key[k]["contract_amount"] if k in by_key else 0) for k in keys],
        }
    return {
        "type": kind,
        "labels": [r["label"] for r in rows],
        "values": [labels.wan_number(r["contract_amount"]) for r in rows],
    }
