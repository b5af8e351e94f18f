"""The scoreboard and broker-registry pages without a browser: who may open them, a refused form that
keeps nothing and says why, and retiring a target from the management page."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from models import BrokerTraining, Target
from tests.console.conftest import ConsoleEnv, login
from tests.console.seed import TARGET_CODE


def test_who_may_open_the_board_and_the_registry(client: TestClient) -> None:
    assert client.get("/console/admin/scoreboard", follow_redirects=False).status_code in (303, 401)
    login(client, "registrar")
    assert client.get("/console/admin/scoreboard").status_code == 200
    assert (
        client.get("/console/admin/scoreboard.csv").content.decode("utf-8-sig").startswith("类别,编号,目标")
    )
    assert client.get("/console/admin/brokers").status_code == 403
    client.cookies.clear()
    login(client, "enterprise")
    assert client.get("/console/admin/scoreboard").status_code == 403


def test_a_bad_training_record_is_refused_and_nothing_is_stored(client: TestClient, env: ConsoleEnv) -> None:
    csrf = login(client, "admin")
    broker = env.seeded.broker_id
    refused = client.post(
        f"/console/admin/brokers/{broker}/trainings",
        data={"course": "技术市场法规", "hours": "0", "completed_on": "2025-01-01", "csrf_token": csrf},
    )
    assert refused.status_code == 422 and "培训记录填写有误" in refused.text
    missing = client.post(
        "/console/admin/brokers/999999/trainings",
        data={"course": "技术市场法规", "hours": "8", "completed_on": "2025-01-01", "csrf_token": csrf},
    )
    assert missing.status_code == 404
    with Session(env.engine) as s:
        assert s.exec(select(BrokerTraining)).all() == []
    page = client.get("/console/admin/brokers").text
    assert "李经纪" in page and "未持证" in page


def test_retiring_a_target_takes_it_off_the_hall(client: TestClient, env: ConsoleEnv) -> None:
    csrf = login(client, "admin")
    assert TARGET_CODE in {t["code"] for t in client.get("/console/hall/live.json").json()["targets"]}
    with Session(env.engine) as s:
        target_id = s.exec(select(Target.id).where(Target.code == TARGET_CODE)).one()
    done = client.post(f"/console/admin/targets/{target_id}/retire", data={"csrf_token": csrf})
    assert done.status_code == 200 and "目标已停用" in done.text
    assert TARGET_CODE not in {t["code"] for t in client.get("/console/hall/live.json").json()["targets"]}
    again = client.post(f"/console/admin/targets/{target_id}/retire", data={"csrf_token": csrf})
    assert again.status_code == 409
