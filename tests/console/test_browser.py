"""End to end in a real browser: Debian's Chromium driven by Playwright against the real app served by
uvicorn on a free loopback port, over a seeded temporary SQLite database. Screenshots of every page go
to test-output/screenshots/ (desktop 1280 px and phone width)."""

from __future__ import annotations

import io
import os
import re
import socket
import threading
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from api.app import create_app
from models.types import utc_now
from tests.console.conftest import ConsoleEnv, make_env
from tests.console.seed import PASSWORD, XSS_ACHIEVEMENT, XSS_TITLE
from tests.console.test_contract_pages import make_contract

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = Path(__file__).resolve().parents[2] / "test-output" / "screenshots"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def server(
    sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, ConsoleEnv]]:
    """The app under uvicorn in a background thread, on a socket bound to a free 127.0.0.1 port."""
    env = make_env(sqlite_template, tmp_path_factory.mktemp("browser"))
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(create_app(state=env.state()), log_level="warning", lifespan="on")
    uv = uvicorn.Server(config)
    thread = threading.Thread(target=uv.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not uv.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert uv.started, "uvicorn did not start"
    yield f"http://127.0.0.1:{port}", env
    uv.should_exit = True
    thread.join(timeout=10)
    sock.close()
    env.engine.dispose()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        if os.environ.get("TECHMATCH_REQUIRE_BROWSER") == "1":
            pytest.fail("Chromium missing: apt-get install -y chromium fonts-noto-cjk")
        pytest.skip("Chromium missing (make browser installs Debian's chromium and fonts-noto-cjk)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=LAUNCH_ARGS)
        yield chromium
        chromium.close()


class Visitor:
    """One browser context (its own cookies), failing the test on any JS dialog or page error."""

    def __init__(self, browser: Any, base: str, viewport: dict[str, int] = DESKTOP) -> None:
        self.base = base
        self.context = browser.new_context(viewport=viewport, locale="zh-CN")
        self.page = self.context.new_page()
        self.dialogs: list[str] = []
        self.errors: list[str] = []
        self.page.on("dialog", self._dialog)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))

    def _dialog(self, dialog: Any) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def go(self, path: str) -> Any:
        self.page.goto(self.base + path)
        return self.page

    def login(self, username: str) -> None:
        page = self.go("/console/login")
        page.get_by_label("用户名").fill(username)
        page.get_by_label("密码").fill(PASSWORD)
        page.get_by_role("button", name="登录").click()
        page.wait_for_load_state()
        assert "/console/login" not in page.url

    def shot(self, name: str) -> Path:
        SHOTS.mkdir(parents=True, exist_ok=True)
        path = SHOTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True, animations="disabled")
        return path

    def close(self) -> None:
        assert self.dialogs == [], f"a dialog fired: {self.dialogs}"
        assert self.errors == [], f"script errors: {self.errors}"
        self.context.close()


def _wan(text: str) -> Decimal:
    found = re.search(r"([\d,]+\.\d{2}) 万元", text)
    assert found, text
    return Decimal(found.group(1).replace(",", ""))


def _broker_records_contract(visitor: Visitor, need_title: str, achievement_title: str, number: str) -> None:
    page = visitor.go("/console/broker")
    visitor.shot("broker-queue-1280")
    page.get_by_role("link", name=f"审核：{need_title} ↔ {achievement_title}", exact=True).click()
    page.wait_for_load_state()
    assert page.locator("mark").count() >= 3
    assert page.get_by_text("最匹配的句子").is_visible() and page.get_by_text("得分构成").is_visible()
    visitor.shot("broker-match-1280")
    visitor.page.set_viewport_size(PHONE)
    visitor.shot("broker-match-390")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]  # nothing sticks out
    visitor.page.set_viewport_size(DESKTOP)
    page.get_by_role("button", name="接受推荐并引荐双方").click()
    page.wait_for_load_state()
    assert page.get_by_text("已接受该推荐").is_visible()
    page.get_by_label("新消息").fill("您好，我方拟于下周安排技术对接会。")
    page.get_by_role("button", name="发送").click()
    page.wait_for_load_state()
    assert page.get_by_text("您好，我方拟于下周安排技术对接会。").is_visible()
    page.get_by_role("link", name="登记技术合同").click()
    page.get_by_label("合同编号").fill(number)
    page.get_by_label("合同类型").select_option("技术转让")
    page.get_by_label("合同名称").fill("细粒度金刚石线锯制备技术转让合同")
    page.get_by_label("合同成交额（元）").fill("1,200,000.00")
    page.get_by_label("技术交易额（元，不超过合同成交额）").fill("1000000")
    page.get_by_label("签订日期").fill(utc_now().date().isoformat())
    visitor.shot("contract-form-1280")
    page.get_by_role("button", name="保存合同").click()
    page.wait_for_load_state()
    assert page.get_by_text("技术合同已登记").is_visible() and page.get_by_text("已签约").first.is_visible()


def test_broker_contract_reaches_hall_and_dashboard(browser: Any, server: tuple[str, ConsoleEnv]) -> None:
    base, _ = server
    hall = Visitor(browser, base)
    page = hall.go("/console/hall")
    before = _wan(page.locator('[data-live="totals.contract_amount"]').inner_text())
    page.evaluate("window.__notReloaded = true")
    broker = Visitor(browser, base)
    broker.login("broker")
    _broker_records_contract(
        broker, "光伏硅片金刚石线锯切割损耗高，寻求细线化切割技术", "细粒度金刚石线锯制备技术", "HT-E2E-0001"
    )
    broker.close()

    expected = f"{before + Decimal('120.00'):,.2f} 万元"
    amount = page.locator('[data-live="totals.contract_amount"]')
    page.wait_for_function(
        "t => document.querySelector('[data-live=\"totals.contract_amount\"]').textContent === t",
        arg=expected,
        timeout=20_000,
    )
    assert amount.inner_text() == expected and page.evaluate("window.__notReloaded") is True
    assert page.locator("#board-body").get_by_text("细粒度金刚石线锯制备技术转让合同").is_visible()
    assert page.locator("#targets li[data-code='CONSOLE-YEAR'] .pct").inner_text() != "0.0%"
    hall.shot("hall-1280")
    page.set_viewport_size(PHONE)
    hall.shot("hall-390")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    hall.close()

    admin = Visitor(browser, base)
    admin.login("admin")
    dash = admin.go("/console/admin")
    assert _wan(dash.locator("#year-amount").inner_text()) >= Decimal("120.00")
    if dash.locator("canvas[data-chart]").count():
        dash.wait_for_selector("canvas[data-drawn='true']")
    dash.get_by_role("button", name="重建检索索引").click()
    dash.wait_for_selector("#job-status[data-status='done']", timeout=30_000)
    assert "已重建索引" in dash.locator("#job-summary").inner_text()
    admin.shot("admin-1280")
    dash.set_viewport_size(PHONE)
    admin.shot("admin-390")
    admin.close()


def test_script_titles_render_as_text_everywhere(browser: Any, server: tuple[str, ConsoleEnv]) -> None:
    base, _ = server
    broker = Visitor(browser, base)
    broker.login("broker")
    page = broker.go("/console/broker?all=true")
    assert page.get_by_text(XSS_TITLE, exact=True).first.is_visible()
    page.get_by_role("link", name=f"审核：{XSS_TITLE} ↔ 细粒度金刚石线锯制备技术", exact=True).click()
    page.wait_for_load_state()
    assert page.locator("#need-title").inner_text() == XSS_TITLE
    broker.shot("broker-match-xss-1280")
    page.get_by_role("button", name="接受推荐并引荐双方").click()
    page.wait_for_load_state()
    page.get_by_role("link", name="登记技术合同").click()
    assert page.get_by_label("合同名称").input_value() == XSS_TITLE
    page.get_by_label("合同编号").fill("HT-E2E-XSS")
    page.get_by_label("合同类型").select_option("技术开发")
    page.get_by_label("合同成交额（元）").fill("10")
    page.get_by_label("技术交易额（元，不超过合同成交额）").fill("10")
    page.get_by_role("button", name="保存合同").click()
    page.wait_for_load_state()
    broker.close()

    visitor = Visitor(browser, base, PHONE)
    hall = visitor.go("/console/hall")
    assert hall.locator("#board-body").get_by_text(XSS_TITLE, exact=True).is_visible()
    hall.wait_for_selector("#live-root[data-polls]", state="attached", timeout=20_000)
    assert hall.locator("#board-body").get_by_text(XSS_TITLE, exact=True).is_visible()  # re-drawn by script
    shows = visitor.go("/console/achievements")
    assert shows.get_by_text(XSS_ACHIEVEMENT, exact=True).is_visible()
    visitor.shot("achievements-390")
    visitor.page.set_viewport_size(DESKTOP)
    visitor.shot("achievements-1280")
    assert hall.evaluate("document.querySelectorAll('img').length") == 0
    visitor.close()


def test_keyboard_alone_signs_in(browser: Any, server: tuple[str, ConsoleEnv]) -> None:
    base, _ = server
    visitor = Visitor(browser, base, PHONE)
    page = visitor.go("/console/login")
    visitor.shot("login-390")
    assert page.evaluate("document.activeElement.id") == "username"
    page.keyboard.type("registrar")
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*/console/hall$"))
    assert page.get_by_text("刘登记（登记机构）").is_visible()
    visitor.close()


def test_scoreboard_and_broker_registry(browser: Any, server: tuple[str, ConsoleEnv]) -> None:
    """An administrator reads the 「1242」 board (rules, citations, 亿元, the relative goals), downloads it
    as Excel, certifies and trains a broker on the registry page, and the board counts the broker."""
    from openpyxl import load_workbook

    from services.targets import load_reference_targets_and_rules

    base, env = server
    load_reference_targets_and_rules(env.engine)
    admin = Visitor(browser, base)
    admin.login("admin")
    page = admin.go("/console/admin/scoreboard")
    assert page.get_by_role("heading", name="郑州中心“1242”目标（专栏28）").is_visible()
    assert page.get_by_role("heading", name="技术合同成交额目标").is_visible()
    brokers_goal = page.locator("tr[data-code='T03']")
    assert (
        brokers_goal.locator(".current").inner_text() == "0"
        and brokers_goal.locator(".goal").inner_text() == "1000"
    )
    assert (
        "持证" in brokers_goal.locator(".rule").inner_text()
        and "000:L749" in brokers_goal.locator(".cite").inner_text()
    )
    assert page.locator("tr[data-code='T02'] .goal").inner_text() == "100.00 亿元"
    assert "年均增速" in page.locator("tr[data-code='T12'] .goal").inner_text()
    assert "2015 年全年值 × 2" in page.locator("tr[data-code='T01'] .rule").inner_text()
    with page.expect_download() as download:
        page.locator("#scoreboard-xlsx").click()
    assert download.value.suggested_filename == "scoreboard.xlsx"
    sheet = load_workbook(io.BytesIO(Path(download.value.path()).read_bytes())).active
    assert sheet is not None and "T03" in {row[1] for row in sheet.iter_rows(values_only=True)}
    admin.shot("scoreboard-1280")
    page.set_viewport_size(PHONE)
    admin.shot("scoreboard-390")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.set_viewport_size(DESKTOP)

    broker_id = env.seeded.broker_id
    page = admin.go("/console/admin/brokers")
    row = page.locator(f"tr[data-broker='{broker_id}']")
    assert (
        row.locator(".counted").inner_text() == "否" and page.locator("#brokers-counted").inner_text() == "0"
    )
    page.locator(f"#broker-{broker_id} summary").click()
    page.get_by_label("证书等级").select_option("中级")
    page.get_by_label("证书编号").fill("JSJJ-2024-0001")
    page.get_by_label("发证机构").fill("河南省科学技术厅")
    page.get_by_label("发证日期").fill("2024-03-01")
    page.get_by_label("职称").fill("中级技术经理人")
    page.get_by_role("button", name="保存证书信息").click()
    page.wait_for_load_state()
    assert page.get_by_text("经纪人状态已更新").is_visible()
    assert row.locator(".counted").inner_text() == "否"  # certified, not yet trained
    page.locator(f"#broker-{broker_id} summary").click()
    page.get_by_label("课程").fill("技术合同认定登记实务")
    page.get_by_label("学时").fill("16")
    page.get_by_label("完成日期").fill("2024-05-10")
    page.get_by_role("button", name="添加培训记录").click()
    page.wait_for_load_state()
    assert page.get_by_text("培训记录已保存").is_visible()
    assert row.locator(".counted").inner_text() == "是" and row.locator(".hours").inner_text() == "16"
    assert page.locator("#brokers-counted").inner_text() == "1"
    admin.shot("brokers-1280")
    page = admin.go("/console/admin/scoreboard")
    assert page.locator("tr[data-code='T03'] .current").inner_text() == "1"
    hall = admin.go("/console/hall")
    assert hall.locator('[data-live="totals.brokers_counted"]').inner_text() == "1"
    assert hall.locator("#targets li").first.get_attribute("data-code") in ("CONSOLE-YEAR", "T09")
    admin.close()


def test_registrar_registers_a_contract(browser: Any, server: tuple[str, ConsoleEnv]) -> None:
    base, env = server
    cid = make_contract(env, "HT-E2E-REG")
    registrar = Visitor(browser, base)
    registrar.login("registrar")
    page = registrar.go("/console/hall")
    page.get_by_role("link", name="合同认定登记").click()
    page.wait_for_load_state()
    assert page.locator("#registrar-queue").get_by_text("HT-E2E-REG", exact=True).is_visible()
    registrar.shot("registrar-queue-1280")
    page.get_by_role("link", name="认定登记：HT-E2E-REG").click()
    page.wait_for_load_state()
    page.get_by_role("radio", name="退回补正").check()
    page.get_by_role("button", name="保存认定结论").click()  # no reason: refused, shown in Chinese
    page.wait_for_load_state()
    assert page.get_by_role("alert").get_by_text("必须填写理由").is_visible()
    page.get_by_label("理由（不予登记、退回补正时必填）").fill("缺少专利证书复印件，请补正后重新提交")
    page.get_by_role("button", name="保存认定结论").click()
    page.wait_for_load_state()
    assert page.locator("#registration-conclusion").inner_text() == "退回补正"
    page.get_by_role("link", name="认定登记", exact=True).click()
    page.wait_for_load_state()
    page.get_by_role("radio", name="登记", exact=True).check()
    page.get_by_label("技术性收入（元，不超过登记成交额）").fill("950,000")
    page.get_by_label("登记类别").select_option("专利权转让")
    page.get_by_label("涉及知识产权").select_option("发明专利")
    page.get_by_label("知识产权编号（专利号、登记号）").fill("ZL202310000001.1")
    page.get_by_label("合同有效期止").fill("2028-02-29")
    page.get_by_label("支付方式").select_option("分期支付")
    registrar.shot("registrar-form-1280")
    page.get_by_role("button", name="保存认定结论").click()
    page.wait_for_load_state()
    assert page.get_by_text("认定登记已保存").is_visible()
    assert page.locator("#contract-status").inner_text() == "已认定登记"
    assert page.locator("#registration-number").inner_text() == f"{utc_now().year}410100{cid:06d}"
    assert page.locator("#registration-tech-income").inner_text() == "950,000.00 元"
    assert page.locator("#payments").get_by_text("300,000.00 元").first.is_visible()
    registrar.shot("contract-detail-1280")
    page.set_viewport_size(PHONE)
    registrar.shot("contract-detail-390")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    queue = registrar.go("/console/registrar")
    assert queue.locator("#registrar-queue").get_by_text("HT-E2E-REG", exact=True).count() == 0
    assert queue.locator("#registrar-decided").get_by_text("HT-E2E-REG", exact=True).is_visible()
    registrar.close()
