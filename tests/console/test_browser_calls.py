"""揭榜挂帅 and 场景 pages in Chromium, at desktop and phone width: the public hall, the application
form, the owner's review page and the scene board (screenshots in test-output/screenshots/)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.console.calls_seed import CALL_TITLE, SCENE_TITLE, SOLUTION_TITLE, seed_call_and_scene
from tests.console.conftest import ConsoleEnv
from tests.console.test_browser import DESKTOP, PHONE, Visitor, browser, server

pytestmark = pytest.mark.browser
__all__ = ["browser", "server"]  # the fixtures, shared with test_browser


def _fits_phone(visitor: Visitor, name: str) -> None:
    visitor.page.set_viewport_size(PHONE)
    visitor.shot(f"{name}-390")
    assert visitor.page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    visitor.page.set_viewport_size(DESKTOP)


def test_hall_application_review_and_scene_board(browser: Any, server: tuple[str, ConsoleEnv]) -> None:
    base, env = server
    ids = seed_call_and_scene(env)

    visitor = Visitor(browser, base)
    hall = visitor.go("/console/calls")
    card = hall.locator("li.call", has_text=CALL_TITLE)
    assert (
        card.get_by_text("榜额：300.00 万元").is_visible()
        and card.get_by_text("距截止还有 20 天").is_visible()
    )
    hall.get_by_label("榜单形式").select_option("赛马制")
    hall.get_by_role("button", name="筛选").click()
    hall.wait_for_load_state()
    assert hall.locator("li.call", has_text=CALL_TITLE).count() == 0
    hall.get_by_label("榜单形式").select_option("揭榜攻关")
    hall.get_by_role("button", name="筛选").click()
    hall.wait_for_load_state()
    visitor.shot("calls-hall-1280")
    _fits_phone(visitor, "calls-hall")
    hall.get_by_role("link", name=CALL_TITLE).click()
    hall.wait_for_load_state()
    assert hall.get_by_text("断线率下降三成", exact=False).is_visible()
    visitor.close()

    solver = Visitor(browser, base)
    solver.login("institution")
    page = solver.go(f"/console/calls/{ids['call']}")
    page.get_by_label("技术方案").fill("电镀细粒度金刚石线锯，配套细线化切割工艺。")
    page.get_by_label("团队成员（每行一人：姓名 职称）").fill("陈教授 教授\n王工 高级工程师")
    page.get_by_label("报价（元）").fill("2,600,000")
    page.get_by_label("进度安排").fill("6 个月中试样线，12 个月量产验证。")
    solver.shot("call-apply-1280")
    _fits_phone(solver, "call-apply")
    page.get_by_role("button", name="提交揭榜申请").click()
    page.wait_for_load_state()
    assert page.get_by_text("揭榜申请已提交").is_visible()
    assert page.locator("#my-applications").get_by_text("已提交").is_visible()
    solver.close()

    owner = Visitor(browser, base)
    owner.login("enterprise")
    review = owner.go(f"/console/calls/{ids['call']}/review")
    assert review.locator("#recommended li.solver", has_text="郑州大学").get_by_text("已申报").is_visible()
    assert review.locator("#applications").get_by_text("260.00 万元", exact=False).is_visible()
    owner.shot("call-review-1280")
    _fits_phone(owner, "call-review")
    owner.close()

    board = Visitor(browser, base, PHONE)
    scenes = board.go("/console/scenes")
    scenes.get_by_role("link", name="智能物流").click()
    scenes.wait_for_load_state()
    scene = scenes.locator("li.scene", has_text=SCENE_TITLE)
    assert (
        scene.get_by_text(SOLUTION_TITLE).is_visible() and scene.get_by_text("已征集方案 1 个").is_visible()
    )
    board.shot("scenes-390")
    assert scenes.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    board.close()
