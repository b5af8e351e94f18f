"""Chinese words for the console: enum labels, money and date formats, the term highlighter, and the
messages shown for errors. Code identifiers stay English; everything a person reads is Chinese."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

import jinja2
from markupsafe import Markup, escape

from data.reference import field_name, load_fields, load_regions, region_name
from models import ContractStatus, MatchStatus, PostingStatus, RejectReason, Role, TargetMetric, Visibility

ROLE = {
    Role.ENTERPRISE: "企业用户",
    Role.INSTITUTION: "成果方用户",
    Role.BROKER: "技术经纪人",
    Role.REGISTRAR: "登记机构",
    Role.ADMIN: "管理员",
}
MATCH_STATUS = {
    MatchStatus.SUGGESTED: "待分配",
    MatchStatus.ASSIGNED: "待审核",
    MatchStatus.ACCEPTED: "已引荐",
    MatchStatus.REJECTED: "已驳回",
    MatchStatus.NEGOTIATING: "洽谈中",
    MatchStatus.CONTRACTED: "已签约",
    MatchStatus.FAILED: "未成交",
    MatchStatus.WITHDRAWN: "已撤回",
}
POSTING_STATUS = {
    PostingStatus.DRAFT: "草稿",
    PostingStatus.OPEN: "发布中",
    PostingStatus.MATCHED: "已对接",
    PostingStatus.CONTRACTED: "已签约",
    PostingStatus.CLOSED: "已关闭",
    PostingStatus.EXPIRED: "已过期",
    PostingStatus.WITHDRAWN: "已撤回",
}
CONTRACT_STATUS = {
    ContractStatus.SIGNED: "已签订（待认定登记）",
    ContractStatus.REGISTERED: "已认定登记",
    ContractStatus.NOT_REGISTERED: "不予登记",
    ContractStatus.CANCELLED: "已作废",
}
REJECT_REASON = {
    RejectReason.BUDGET: "预算不符",
    RejectReason.MATURITY: "成熟度不足",
    RejectReason.IP_STATUS: "知识产权状态不明",
    RejectReason.REGION: "地域不符",
    RejectReason.DUPLICATE: "重复推荐",
    RejectReason.VAGUE_NEED: "需求描述不清",
    RejectReason.NOT_RELEVANT: "技术不相关",
    RejectReason.OTHER: "其他（请填写说明）",
}
WHY_NOT = {
    "over_budget": "报价超出需求预算",
    "less_mature_than_asked": "成熟度低于需求要求",
    "other_region": "不在同一省份",
    "mode_mismatch": "合作方式不一致",
    "other_field": "技术领域不同",
    "contracted": "已签约（对方已有技术合同）",
}
COMPONENT = {
    "fused": "综合得分",
    "dense": "语义相似度",
    "lexical": "关键词匹配（BM25）",
    "dense_rank": "语义排名",
    "lexical_rank": "关键词排名",
    "field_match": "领域一致",
    "region_match": "地域一致（同省）",
    "field": "领域相符",
    "region": "地域相符",
    "budget": "预算相符",
    "maturity": "成熟度相符",
    "modes": "合作方式相符",
}
"""In the order a broker reads them; components the engine adds later follow under their own names."""


def component_rows(components: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(label, value) pairs: scores to 4 places, ranks as whole numbers, 0/1 agreements as 是/否."""
    order = {name: i for i, name in enumerate(COMPONENT)}
    rows = []
    for name in sorted(components, key=lambda n: (order.get(n, len(order)), n)):
        value = float(components[name])
        if name.endswith("_rank"):
            text = f"第 {value:.0f} 名"
        elif name.endswith("_match"):
            text = "是" if value >= 0.5 else "否"
        else:
            text = f"{value:.4f}"
        rows.append((COMPONENT.get(name, name), text))
    return rows


VISIBILITY = {Visibility.PUBLIC: "公开", Visibility.CONFIDENTIAL: "保密"}
TARGET_METRIC: dict[str, str] = {
    TargetMetric.CONTRACT_TURNOVER: "技术合同成交额",
    TargetMetric.TECHNOLOGY_TRANSACTION_AMOUNT: "技术交易额",
    TargetMetric.REGISTERED_TURNOVER: "登记成交额",
    TargetMetric.CONTRACTS: "合同数",
    TargetMetric.BROKERS: "技术经纪人数",
    TargetMetric.MEMBER_UNITS: "会员单位数",
    TargetMetric.ACHIEVEMENTS_TRANSFERRED: "成果转化项数",
    TargetMetric.TT_INSTITUTIONS: "技术转移机构数",
    "achievements_matched": "对接技术成果数",
    "tt_institutions_introduced": "引进技术转移机构数",
    "rd_institutions_introduced": "引进研发机构数",
    "sub_centers": "技术转移分中心数",
    "influential_achievements": "有较大影响的成果转化项数",
}
"""Keyed by the metric's value (a StrEnum equals its value), so metrics added later still find a label."""
TARGET_KIND = {
    "absolute": "绝对值",
    "baseline_multiple": "基期倍数（如翻一番）",
    "relative_growth": "增速高于对比地区",
}
TARGET_SCOPE = {"province": "全省", "city": "地市", "county": "县（市）", "center": "郑州中心", "org": "单位"}
POLICY_BASE = {
    "actual_payments": "实际支付额",
    "prior_year_contract_turnover": "上年度技术合同成交额",
    "registered_turnover": "登记成交额",
    "actual_investment": "实际投资额",
}
POLICY_PER = {"project": "每项目", "unit": "每单位", "registrar": "每登记机构"}
POLICY_PERIOD = {"project": "按项目", "year": "按年度"}
GROUP_BY = {
    "year": "年度",
    "quarter": "季度",
    "month": "月份",
    "city": "地市",
    "field": "技术领域",
    "contract_type": "合同类型",
    "org": "单位",
    "org_kind": "单位类型",
    "broker": "技术经纪人",
    "sub_center": "分中心",
    "open_call": "揭榜挂帅",
}
_SERVICE_ERRORS = {
    "forbidden": "您没有权限执行此操作。",
    "not_found": "未找到该记录。",
    "conflict": "操作冲突：记录已被修改，请刷新后重试。",
    "stale_version": "该推荐已被他人处理，请刷新后重试。",
    "invalid_transition": "当前状态不允许此操作。",
    "duplicate": "记录重复（例如合同编号已存在）。",
    "unknown_field_code": "未知的技术领域代码。",
    "unknown_region_code": "未知的地区代码。",
    "already_registered": "该合同已有认定结论（登记或不予登记），不能再次登记。",
    "duplicate_registration_number": "登记编号已被其他合同使用。",
    "reason_required": "“不予登记”和“退回补正”必须填写理由。",
    "registered_amount_required": "认定结论为“登记”时必须填写登记成交额。",
    "subtype_mismatch": "登记类别与合同类型不符。",
    "registration_before_signing": "登记日期不能早于合同签订日期。",
    "invalid_amount": "金额有误：登记成交额不能超过合同成交额，技术性收入不能超过登记成交额。",
    "invalid_term": "合同有效期的起始日期不能晚于截止日期。",
    "ledger_status": "“已签约”状态由技术合同自动设置和解除。",
}
FLASH = {
    "accepted": "已接受该推荐（已引荐双方）。",
    "rejected": "已驳回该推荐，原因已记录。",
    "message": "洽谈消息已发送。",
    "contract": "技术合同已登记，成交额已计入统计。",
    "registered": "认定登记已保存。",
    "target": "目标已保存。",
    "rule": "政策规则已保存。",
    "training": "培训记录已保存。",
    "broker": "经纪人状态已更新。",
    "retired": "目标已停用。",
    "logout": "您已退出登录。",
}
"""Messages a redirect may ask a page to show (by code, so no text travels in the URL)."""
_HTTP = {401: "请先登录。", 403: "您没有权限访问此页面。", 404: "页面不存在。", 405: "不支持的请求方式。"}


def _label(table: Mapping[Any, str], value: Any) -> str:
    if value is None:
        return "—"
    return table.get(value, table.get(str(value), str(value)))


def money(value: Any, unit: str = "元") -> str:
    """Yuan with thousands separators and two decimals (Decimal in, never float arithmetic)."""
    if value is None or value == "":
        return "—"
    try:
        amount = Decimal(str(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    except InvalidOperation:
        return str(value)
    return f"{amount:,.2f} {unit}".strip()


def wan(value: Any) -> str:
    """Yuan shown in 万元 (ten thousands), the unit the hall and the dashboard speak."""
    if value is None or value == "":
        return "—"
    amount = (Decimal(str(value)) / Decimal(10_000)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return f"{amount:,.2f} 万元"


def wan_number(value: Any) -> str:
    """Yuan as a plain decimal string of 万元 (for charts), e.g. ``"123.45"``."""
    amount = Decimal(str(value or 0)) / Decimal(10_000)
    return str(amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def percent(value: Any) -> str:
    if value is None:
        return "—"
    return f"{Decimal(str(value)) * 100:.1f}%"


def day(value: Any) -> str:
    if isinstance(value, datetime):
        return value.astimezone().strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    return "—" if value in (None, "") else str(value)


def field_label(code: str | None) -> str:
    if not code:
        return "—"
    try:
        return field_name(code)
    except KeyError:
        return code


def region_label(code: str | None) -> str:
    if not code:
        return "—"
    try:
        return region_name(code)
    except KeyError:
        return code


def highlight(text: str | None, terms: Iterable[str]) -> Markup:
    """Escape every piece of the text, then wrap the pieces that are shared terms in <mark>: whatever
    the text holds, the only markup in the result is ours (matching on the raw text keeps entities whole)."""
    needles = sorted({t for t in terms if t and t.strip()}, key=len, reverse=True)
    if not needles:
        return escape(text or "")
    pattern = re.compile("(" + "|".join(re.escape(n) for n in needles) + ")", re.IGNORECASE)
    pieces = pattern.split(text or "")
    return Markup("").join(
        Markup("<mark>{}</mark>").format(piece) if i % 2 else escape(piece) for i, piece in enumerate(pieces)
    )


TARGET_STATE = {"running": "进行中", "ended": "已结束", "upcoming": "未开始"}
TARGET_OUTCOME = {
    "achieved": "已完成",
    "missed": "未完成",
    "on_track": "按进度可完成",
    "behind": "进度滞后",
    "upcoming": "未开始",
    "unmeasured": "无法计算",
}
YI = Decimal(100_000_000)
BEIJING = ZoneInfo("Asia/Shanghai")


def amount(value: Any) -> str:
    """Yuan in 亿元 from ¥1亿 up, in 万元 below (the units people read these figures in)."""
    if value is None or value == "":
        return "—"
    if abs(Decimal(str(value))) >= YI:
        yi = (Decimal(str(value)) / YI).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        return f"{yi:,.2f} 亿元"
    return wan(value)


def _figure(value: Any, unit: str) -> str:
    if value is None:
        return "—"
    if unit == "yuan":
        return amount(value)
    if unit == "percent":
        return f"{Decimal(str(value)):.2f}%"
    return f"{value}"


def target_view(item: Mapping[str, Any]) -> dict[str, Any]:
    """A target-progress row (services.targets) as the text and 0–100 bar value a page shows. The figure
    is the value to date (``current``); the badge says how the period ended or is going. Goals of ¥1亿
    and more read in 亿元. A relative-growth goal has no bar: its figures are growth rates."""
    unit = str(item.get("unit"))
    current = item.get("current", item.get("actual"))
    goal = item.get("value")
    relative = unit == "percent"
    pct = (
        None if relative or not goal or current is None else Decimal(str(current)) * 100 / Decimal(str(goal))
    )
    place = item.get("region_name") or TARGET_SCOPE.get(str(item.get("scope")), "")
    start, end = item["period_start"], item["period_end"]
    years = f"{start.year}" if start.year == end.year else f"{start.year}–{end.year}"
    outcome = str(item.get("outcome") or ("on_track" if item.get("on_track") else "behind"))
    reference = item.get("reference_region_name") or ""
    return {
        "code": str(item["code"]),
        "name": f"{item['name']}（{place}，{years}）",
        "metric": _label(TARGET_METRIC, item.get("metric")),
        "actual": ("年均增速 " if relative else "") + _figure(current, unit),
        "goal": (f"{reference}年均增速 " if relative else "") + _figure(goal, unit),
        "percent": None if pct is None else str(min(pct, Decimal(100)).quantize(Decimal("0.1"))),
        "percent_text": "—" if pct is None else f"{pct.quantize(Decimal('0.1'))}%",
        "state": TARGET_STATE.get(str(item.get("state")), ""),
        "outcome": outcome,
        "outcome_text": TARGET_OUTCOME.get(outcome, ""),
        "on_track": bool(item.get("on_track")),
        "running": item.get("state") == "running",
        "current_year": start.year <= _this_year() <= end.year,
    }


def _this_year() -> int:
    return datetime.now(BEIJING).year


def field_options() -> list[tuple[str, str]]:
    return [(f.code, f"{f.code} {f.name}") for f in load_fields()]


def region_options() -> list[tuple[str, str]]:
    """The province and its cities: the regions a filter is usually about."""
    return [(r.code, r.name) for r in load_regions() if r.level in ("province", "city")]


def service_error(code: str, message: str) -> str:
    return _SERVICE_ERRORS.get(code, f"操作未完成：{message}")


def validation_message(errors: list[Any]) -> str:
    fields = sorted({str(e.get("loc", ("", ""))[-1]) for e in errors if isinstance(e, dict)})
    return "表单填写有误，请检查：" + "、".join(fields) if fields else "表单填写有误。"


def http_message(status: int) -> str:
    return _HTTP.get(status, "请求无法处理。")


def install(env: jinja2.Environment) -> None:
    """Register the filters and label tables every template may use."""
    env.filters.update(
        money=money,
        wan=wan,
        amount=amount,
        percent=percent,
        day=day,
        field=field_label,
        region=region_label,
        highlight=highlight,
        role=lambda v: _label(ROLE, v),
        match_status=lambda v: _label(MATCH_STATUS, v),
        posting_status=lambda v: _label(POSTING_STATUS, v),
        contract_status=lambda v: _label(CONTRACT_STATUS, v),
        reject_reason=lambda v: _label(REJECT_REASON, v),
        why_not=lambda v: _label(WHY_NOT, v),
        component=lambda v: _label(COMPONENT, v),
        visibility=lambda v: _label(VISIBILITY, v),
        metric=lambda v: _label(TARGET_METRIC, v),
        scope=lambda v: _label(TARGET_SCOPE, v),
        policy_base=lambda v: _label(POLICY_BASE, v),
        policy_per=lambda v: _label(POLICY_PER, v),
        policy_period=lambda v: _label(POLICY_PERIOD, v),
        group_by=lambda v: _label(GROUP_BY, v),
    )
    env.globals.update(
        REJECT_REASON=REJECT_REASON,
        MATCH_STATUS=MATCH_STATUS,
        TARGET_METRIC=TARGET_METRIC,
        TARGET_SCOPE=TARGET_SCOPE,
        POLICY_BASE=POLICY_BASE,
        POLICY_PER=POLICY_PER,
        POLICY_PERIOD=POLICY_PERIOD,
        field_options=field_options,
        component_rows=component_rows,
        region_options=region_options,
    )
