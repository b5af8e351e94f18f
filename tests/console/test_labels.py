"""The console's formatting helpers: escaping before highlighting, money in yuan and 万元, target rows,
and that every template is rendered with autoescape on."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from api.console import labels
from api.console.web import templates
from models import MatchStatus, RejectReason, TargetMetric
from tests.console.markup import injected_markup


def test_highlight_escapes_then_marks_terms() -> None:
    out = str(labels.highlight("<b>金刚石线锯</b> & 切割 amp lt", ["金刚石线锯", "amp", "lt", "<b>"]))
    assert out == (
        "<mark>&lt;b&gt;</mark><mark>金刚石线锯</mark>&lt;/b&gt; &amp; 切割 <mark>amp</mark> <mark>lt</mark>"
    )
    assert str(labels.highlight("<script>alert(1)</script>", [])) == "&lt;script&gt;alert(1)&lt;/script&gt;"
    assert str(labels.highlight(None, ["x"])) == ""
    assert injected_markup(str(labels.highlight("<img src=x onerror=alert(1)>", ["img", "onerror"]))) == []


def test_longest_term_wins_and_matching_ignores_case() -> None:
    assert str(labels.highlight("Diamond 金刚石线锯", ["金刚石", "金刚石线锯", "diamond"])) == (
        "<mark>Diamond</mark> <mark>金刚石线锯</mark>"
    )


def test_money_and_wan() -> None:
    assert labels.money(Decimal("1234567.5")) == "1,234,567.50 元"
    assert labels.money("12") == "12.00 元" and labels.money(None) == "—"
    assert labels.wan(Decimal("1200000")) == "120.00 万元" and labels.wan("5") == "0.00 万元"
    assert labels.wan_number(Decimal("80000000000")) == "8000000.00"


def test_every_reject_reason_and_status_has_a_chinese_label() -> None:
    assert set(labels.REJECT_REASON) == set(RejectReason)
    assert set(labels.MATCH_STATUS) == set(MatchStatus)
    assert all(m.value in labels.TARGET_METRIC for m in TargetMetric)
    assert labels.REJECT_REASON[RejectReason.VAGUE_NEED] == "需求描述不清"


def test_target_view_caps_the_bar_but_not_the_text() -> None:
    row = {
        "code": "T",
        "name": "成交额",
        "scope": "center",
        "region_name": None,
        "metric": "contract_turnover",
        "unit": "yuan",
        "value": Decimal("1000000"),
        "actual": Decimal("2500000"),
        "percent": Decimal("250"),
        "period_start": date(2025, 1, 1),
        "period_end": date(2027, 12, 31),
        "state": "running",
        "on_track": True,
    }
    view = labels.target_view(row)
    assert view is not None
    assert view["percent"] == "100.0" and view["percent_text"] == "250.0%"
    assert view["name"] == "成交额（郑州中心，2025–2027）" and view["actual"] == "250.00 万元"
    relative = {**row, "unit": "percent", "value": Decimal("17.94"), "actual": Decimal("52.75")}
    relative |= {"reference_region_name": "河南省", "outcome": "achieved"}
    view = labels.target_view(relative)
    assert (
        view["percent"] is None and view["actual"] == "年均增速 52.75%" and view["outcome_text"] == "已完成"
    )
    assert view["goal"] == "河南省年均增速 17.94%"


def test_amounts_of_yi_scale_read_in_yi() -> None:
    assert labels.amount(Decimal("80000000000")) == "800.00 亿元"
    assert labels.amount(Decimal("99999999")) == "10,000.00 万元"
    assert labels.amount(Decimal("100000000")) == "1.00 亿元"


def test_templates_autoescape_everything() -> None:
    env = templates().env
    assert env.autoescape is True
    rendered = env.from_string("{{ x }}|{{ x|highlight(['a']) }}").render(x="<script>a</script>")
    assert rendered == "&lt;script&gt;a&lt;/script&gt;|&lt;script&gt;<mark>a</mark>&lt;/script&gt;"
    assert injected_markup("<p><script>alert(1)</script><a onclick=x>y</a></p>") == [
        "<script {}>",
        "<a onclick=...>",
    ]
