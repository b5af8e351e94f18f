"""The console's workflows through TestClient: review, negotiation, contract, the hall's live figures,
the dashboard and its exports, management forms and background jobs; and escaping everywhere."""

from __future__ import annotations

import csv
import io
import time

from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlmodel import Session, select

from models import Match, MatchStatus
from models.types import utc_now
from tests.console.conftest import ConsoleEnv, csrf_of, login
from tests.console.markup import injected_markup
from tests.console.seed import XSS_ACHIEVEMENT, XSS_TITLE


def _match_of(env: ConsoleEnv, need: str, achievement: str) -> Match:
    """The stored suggestion pairing two seeded postings (the seed's matching run must have made it)."""
    with Session(env.engine) as s:
        found = s.exec(
            select(Match).where(
                Match.need_id == env.seeded.need[need],
                Match.achievement_id == env.seeded.achievement[achievement],
            )
        ).first()
    assert found is not None, f"no suggestion {need} -> {achievement}"
    return found


def _set_flags(env: ConsoleEnv, match_id: int | None, flags: list[str]) -> None:
    """Store "why not" flags on a match as the engine would (the page must show each in Chinese)."""
    with Session(env.engine) as s:
        match = s.get(Match, match_id)
        assert match is not None
        match.explanation = {**match.explanation, "flags": flags}
        s.add(match)
        s.commit()


def _accept_and_contract(client: TestClient, match_id: int, number: str, amount: str) -> None:
    page = client.get(f"/console/broker/matches/{match_id}")
    token = csrf_of(page.text)
    accepted = client.post(
        f"/console/broker/matches/{match_id}/decide", data={"decision": "accept", "csrf_token": token}
    )
    assert accepted.status_code == 200 and "已接受该推荐" in accepted.text
    form = client.get(f"/console/broker/matches/{match_id}/contract")
    done = client.post(
        f"/console/broker/matches/{match_id}/contract",
        data={
            "csrf_token": csrf_of(form.text),
            "contract_number": number,
            "contract_type": "技术转让",
            "title": "金刚石线锯技术转让合同",
            "contract_amount": amount,
            "tech_transaction_amount": "1000000",
            "signed_on": utc_now().date().isoformat(),
        },
    )
    assert done.status_code == 200 and "技术合同已登记" in done.text and "已签约" in done.text


def test_broker_review_to_contract_shows_up_in_hall_and_dashboard(
    client: TestClient, env: ConsoleEnv
) -> None:
    before = client.get("/console/hall/live.json").json()
    assert before["totals"]["contracts"] == "0"
    match = _match_of(env, "saw", "wire")
    login(client, "broker")
    detail = client.get(f"/console/broker/matches/{match.id}").text
    assert detail.count("<mark>") >= 3 and "金刚石线锯" in detail
    assert "最匹配的句子" in detail and "得分构成" in detail and "语义相似度" in detail
    _accept_and_contract(client, match.id or 0, "HT-TEST-001", "1,200,000.00")
    message_token = csrf_of(client.get(f"/console/broker/matches/{match.id}").text)
    live = client.get("/console/hall/live.json").json()
    assert live["totals"]["contracts"] == "1" and live["totals"]["contract_amount"] == "120.00 万元"
    assert live["board"][0]["title"] == "金刚石线锯技术转让合同"
    assert live["board"][0]["buyer"] == "郑州晶锐光伏科技有限公司"
    goal = next(t for t in live["targets"] if t["code"] == "CONSOLE-YEAR")
    assert goal["percent_text"] == "12.0%" and goal["actual"] == "120.00 万元"
    assert (
        client.post(
            f"/console/broker/matches/{match.id}/messages", data={"body": "x", "csrf_token": message_token}
        ).status_code
        == 409
    )
    client.cookies.clear()
    login(client, "admin")
    dashboard = client.get("/console/admin").text
    assert 'id="year-amount">120.00 万元' in dashboard and "chart-data" in dashboard
    exported = client.get("/console/admin/export/turnover_contract_type.csv").content.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(exported)))
    assert rows == [
        {
            "分组": "技术转让",
            "合同数": "1",
            "合同成交额（元）": "1200000.00",
            "技术交易额（元）": "1000000.00",
            "登记成交额（元）": "0.00",
        }
    ]
    book = load_workbook(io.BytesIO(client.get("/console/admin/export/targets.xlsx").content))
    sheet = book.active
    assert sheet.cell(1, 2).value == "目标" and any(c.value == "CONSOLE-YEAR" for c in sheet["A"])


def test_negotiation_messages_and_rejection_reasons(client: TestClient, env: ConsoleEnv) -> None:
    login(client, "broker")
    first = _match_of(env, "saw", "wire").id
    page = client.get(f"/console/broker/matches/{first}")
    token = csrf_of(page.text)
    client.post(f"/console/broker/matches/{first}/decide", data={"decision": "accept", "csrf_token": token})
    sent = client.post(
        f"/console/broker/matches/{first}/messages",
        data={"body": "您好，<b>我方</b>拟安排对接会。", "csrf_token": token},
    )
    assert (
        "&lt;b&gt;我方&lt;/b&gt;拟安排对接会" in sent.text and "李经纪" in sent.text and "洽谈中" in sent.text
    )
    other = _match_of(env, "saw", "xss").id
    _set_flags(env, other, ["over_budget", "other_field"])
    flagged = client.get(f"/console/broker/matches/{other}").text
    assert "报价超出需求预算" in flagged and "技术领域不同" in flagged
    vague = client.post(
        f"/console/broker/matches/{other}/decide",
        data={"decision": "reject", "reason": "other", "comment": " ", "csrf_token": token},
    )
    assert vague.status_code == 422 and "请填写说明" in vague.text
    stale = client.post(
        f"/console/broker/matches/{other}/decide",
        data={"decision": "reject", "reason": "budget", "expected_version": "99", "csrf_token": token},
    )
    assert stale.status_code == 409 and "已被他人处理" in stale.text
    done = client.post(
        f"/console/broker/matches/{other}/decide",
        data={"decision": "reject", "reason": "other", "comment": "领域差异大", "csrf_token": token},
    )
    assert "已驳回" in done.text and "其他（请填写说明）" in done.text and "领域差异大" in done.text
    with Session(env.engine) as s:
        rejected = s.get(Match, other)
        assert rejected is not None and rejected.status == MatchStatus.REJECTED


def test_contract_form_explains_invalid_input_in_chinese(client: TestClient, env: ConsoleEnv) -> None:
    login(client, "broker")
    match_id = _match_of(env, "saw", "wire").id
    token = csrf_of(client.get(f"/console/broker/matches/{match_id}").text)
    client.post(
        f"/console/broker/matches/{match_id}/decide", data={"decision": "accept", "csrf_token": token}
    )
    bad = client.post(
        f"/console/broker/matches/{match_id}/contract",
        data={
            "csrf_token": token,
            "contract_number": "HT-9",
            "contract_type": "技术转让",
            "title": "合同",
            "contract_amount": "100",
            "tech_transaction_amount": "200",
            "signed_on": "2025-01-01",
        },
    )
    assert (
        bad.status_code == 422 and "技术交易额不能大于合同成交额" in bad.text and 'value="HT-9"' in bad.text
    )
    worse = client.post(
        f"/console/broker/matches/{match_id}/contract",
        data={
            "csrf_token": token,
            "contract_number": "",
            "contract_type": "买卖",
            "title": "合同",
            "contract_amount": "abc",
            "tech_transaction_amount": "1",
            "signed_on": "2025-13-01",
        },
    )
    for label in ("合同编号", "合同类型", "合同成交额", "签订日期"):
        assert f"“{label}”填写有误" in worse.text


def test_script_titles_are_text_on_every_page(client: TestClient, env: ConsoleEnv) -> None:
    escaped = "&lt;script&gt;alert(1)&lt;/script&gt;"
    match = _match_of(env, "xss", "wire")
    login(client, "broker")
    _accept_and_contract_titled(client, match.id or 0)
    pages = [
        "/console/broker?all=true",
        f"/console/broker/matches/{match.id}",
        f"/console/broker/matches/{_match_of(env, 'saw', 'xss').id}",
        "/console/hall",
        "/console/achievements",
    ]
    for path in pages:
        html = client.get(path).text
        assert injected_markup(html) == [], path
    assert escaped in client.get("/console/hall").text
    assert XSS_TITLE in client.get("/console/hall/live.json").json()["board"][0]["title"]
    assert "&lt;img src=x onerror=alert(3)&gt;金刚石线锯" in client.get("/console/achievements").text
    assert XSS_ACHIEVEMENT not in client.get("/console/achievements").text


def _accept_and_contract_titled(client: TestClient, match_id: int) -> None:
    page = client.get(f"/console/broker/matches/{match_id}")
    token = csrf_of(page.text)
    assert "<mark>" in page.text and "&lt;script&gt;" in page.text
    client.post(
        f"/console/broker/matches/{match_id}/decide", data={"decision": "accept", "csrf_token": token}
    )
    form = client.get(f"/console/broker/matches/{match_id}/contract").text
    assert 'value="&lt;script&gt;alert(1)&lt;/script&gt;"' in form
    client.post(
        f"/console/broker/matches/{match_id}/contract",
        data={
            "csrf_token": token,
            "contract_number": "HT-XSS",
            "contract_type": "技术开发",
            "title": XSS_TITLE,
            "contract_amount": "10",
            "tech_transaction_amount": "10",
            "signed_on": utc_now().date().isoformat(),
        },
    )


def test_admin_manages_targets_and_rules(client: TestClient) -> None:
    login(client, "admin")
    token = csrf_of(client.get("/console/admin/targets").text)
    target = {
        "csrf_token": token,
        "code": "ZZ-2030",
        "name": "郑州市技术合同成交额",
        "scope": "city",
        "region_code": "410100",
        "metric": "contract_turnover",
        "period_start": "2026-01-01",
        "period_end": "2030-12-31",
        "value": "80,000,000,000",
        "org_id": "",
        "baseline": "",
        "source": "",
    }
    saved = client.post("/console/admin/targets", data=target)
    assert "目标已保存" in saved.text and "ZZ-2030" in saved.text and "800.00 亿元" in saved.text
    again = client.post("/console/admin/targets", data=target)
    assert again.status_code == 409
    backwards = client.post(
        "/console/admin/targets", data={**target, "code": "ZZ-X", "period_end": "2020-01-01"}
    )
    assert backwards.status_code == 422 and "未保存" in backwards.text
    rule = {
        "csrf_token": token,
        "code": "R9",
        "name": "登记机构奖补",
        "rate": "0.0002",
        "base": "registered_turnover",
        "cap": "500000",
        "per": "registrar",
        "period": "year",
        "region_code": "",
        "source": "测试",
    }
    ok = client.post("/console/admin/rules", data=rule)
    assert "政策规则已保存" in ok.text and "登记机构奖补" in ok.text and "0.0%" in ok.text
    bad = client.post("/console/admin/rules", data={**rule, "code": "R10", "rate": "3"})
    assert bad.status_code == 422 and "“比例”填写有误" in bad.text


def test_reindex_job_reports_progress_until_done(client: TestClient, env: ConsoleEnv) -> None:
    token = login(client, "admin")
    started = client.post("/console/admin/jobs/reindex", headers={"X-CSRF-Token": token})
    assert started.status_code == 202
    job_id = started.json()["id"]
    deadline = time.monotonic() + 30
    status = started.json()
    while not status["finished"] and time.monotonic() < deadline:
        time.sleep(0.1)
        status = client.get(f"/console/admin/jobs/{job_id}.json").json()
    postings = len(env.seeded.need) + len(env.seeded.achievement)
    assert status["status"] == "done" and status["percent"] == 100
    assert status["done"] == status["total"] == postings and f"共 {postings} 条" in status["summary"]
    refused = client.post("/console/admin/jobs/reindex", headers={"X-CSRF-Token": "forged"})
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "csrf_failed"


def test_import_job_creates_postings(client: TestClient, env: ConsoleEnv) -> None:
    token = login(client, "admin")
    payload = (
        '{"title": "导入的需求", "description": "需要一种新型超硬材料刀具。", "field_code": "F03.01"}\n'
        '{"title": "", "description": "x", "field_code": "F03.01"}\n'
    ).encode()
    started = client.post(
        "/console/admin/jobs/import",
        headers={"X-CSRF-Token": token},
        data={"kind": "need", "org_id": str(env.seeded.org["ent"])},
        files={"upload": ("needs.jsonl", payload, "application/x-ndjson")},
    )
    assert started.status_code == 202
    job_id, status = started.json()["id"], started.json()
    deadline = time.monotonic() + 30
    while not status["finished"] and time.monotonic() < deadline:
        time.sleep(0.1)
        status = client.get(f"/console/admin/jobs/{job_id}.json").json()
    assert status["status"] == "done" and "新增 1" in status["summary"] and "无效 1" in status["summary"]
