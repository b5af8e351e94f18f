"""A 揭榜挂帅 call and a scene for the console tests, created through the services like everything else."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from models.call_schemas import CallCreate, SceneCreate, SolutionCreate
from services import accounts, calls, scenes
from services.actor import Actor
from tests.console.conftest import ConsoleEnv

CALL_TITLE = "光伏硅片细线化切割技术揭榜攻关"
SCENE_TITLE = "郑州航空港区智慧物流园区无人配送场景"
SOLUTION_TITLE = "园区无人配送车与调度平台"


def _actor(env: ConsoleEnv, key: str) -> Actor:
    actor = accounts.actor_for_user(env.engine, env.seeded.user[key])
    assert actor is not None
    return actor


def seed_call_and_scene(env: ConsoleEnv) -> dict[str, Any]:
    body = {
        "form": "揭榜攻关",
        "need": {
            "title": CALL_TITLE,
            "description": "单晶光伏硅片金刚石线锯切割损耗大、断线率高，征集细粒度金刚石线锯制备与细线化切割技术。",
            "field_code": "F03.01",
            "keywords": ["金刚石线锯", "光伏硅片"],
        },
        "indicators": [{"name": "切割损耗降低", "target": "≥ 20%"}],
        "budget": "3000000.00",
        "application_deadline": (datetime.now(UTC) + timedelta(days=20, hours=3)).isoformat(),
        "delivery_months": 12,
        "milestones": [
            {
                "deliverable": "中试样线",
                "acceptance_criterion": "断线率下降三成",
                "payment_share": "0.5",
                "due_months": 6,
            },
            {
                "deliverable": "量产验证",
                "acceptance_criterion": "良率提升",
                "payment_share": "0.5",
                "due_months": 12,
            },
        ],
    }
    owner = _actor(env, "enterprise")
    call = calls.create_call(env.engine, env.index, owner, CallCreate.model_validate(body))
    calls.publish_call(env.engine, env.index, owner, call["id"])
    scene = scenes.create_scene(
        env.engine,
        env.index,
        _actor(env, "enterprise2"),
        SceneCreate(
            title=SCENE_TITLE,
            description="开放园区道路与分拣中心，征集无人配送车、智能分拣与园区调度解决方案。",
            field_code="F02",
            category="智能物流",
        ),
    )
    scenes.add_solution(
        env.engine,
        env.index,
        _actor(env, "institution"),
        scene["id"],
        SolutionCreate(title=SOLUTION_TITLE, abstract="封闭园区无人配送车与云端调度平台。", field_code="F02"),
    )
    return {"call": call["id"], "scene": scene["id"]}
