"""The 揭榜挂帅 and 场景 pages over TestClient: the hall, a call page with its form, applying, the owner's
review page with recommended solvers and applications, inviting, and the scene board; who may see what."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.console.calls_seed import CALL_TITLE, SCENE_TITLE, SOLUTION_TITLE, seed_call_and_scene
from tests.console.conftest import ConsoleEnv, login


def test_hall_apply_review_and_scene_board(client: TestClient, env: ConsoleEnv) -> None:
    ids = seed_call_and_scene(env)
    hall = client.get("/console/calls")
    assert hall.status_code == 200 and CALL_TITLE in hall.text and "300.00 万元" in hall.text
    assert "距截止还有 20 天" in hall.text and "北京时间" in hall.text
    page = client.get(f"/console/calls/{ids['call']}")
    assert "登录后揭榜" in page.text and "提交揭榜申请" not in page.text

    csrf = login(client, "institution")
    form = client.get(f"/console/calls/{ids['call']}")
    assert "提交揭榜申请" in form.text
    bad = client.post(
        f"/console/calls/{ids['call']}/apply",
        data={
            "csrf_token": csrf,
            "proposal": "方案",
            "team": "陈教授 教授",
            "price": "abc",
            "schedule": "一年",
        },
    )
    assert bad.status_code == 422 and "“报价”填写有误" in bad.text
    done = client.post(
        f"/console/calls/{ids['call']}/apply",
        data={
            "csrf_token": csrf,
            "proposal": "电镀细粒度金刚石线锯。",
            "team": "陈教授 教授\n王工 高工",
            "price": "2,500,000",
            "schedule": "6 个月中试",
        },
    )
    assert done.status_code == 200 and "揭榜申请已提交" in done.text and "已提交" in done.text
    assert client.get(f"/console/calls/{ids['call']}/review").status_code == 403

    client.cookies.clear()
    csrf = login(client, "enterprise")
    review = client.get(f"/console/calls/{ids['call']}/review")
    assert review.status_code == 200 and "推荐揭榜方" in review.text and "郑州大学" in review.text
    assert "细粒度金刚石线锯制备技术" in review.text and "250.00 万元" in review.text
    board = client.get("/console/scenes?category=智能物流")
    assert SCENE_TITLE in board.text and SOLUTION_TITLE in board.text
    assert SCENE_TITLE not in client.get("/console/scenes?category=智慧医疗").text

    client.cookies.clear()
    login(client, "admin")
    dash = client.get("/console/admin")
    assert (
        "揭榜挂帅与应用场景" in dash.text and "场景 · 智能物流" in dash.text and "榜单 · 征集中" in dash.text
    )
    export = client.get("/console/admin/export/calls.csv")
    assert export.status_code == 200 and "榜单 · 揭榜攻关" in export.content.decode("utf-8-sig")
