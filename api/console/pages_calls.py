"""揭榜挂帅 and 场景 pages: the public hall of open calls (揭榜挂帅大厅), a call's page with the application
form, the owner's review page (recommended solvers beside the applications) and the scene board
(场景对接). Everything is read and written through `services.calls`, `services.solvers` and
`services.scenes`, as the API does."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from api.console import labels
from api.console.web import (
    PREFIX,
    PUBLIC_ACTOR,
    ConsoleRoute,
    CsrfUserDep,
    OptionalUserDep,
    UserDep,
    app_state,
    db_engine,
    redirect,
    render,
)
from models import CallForm, CallStatus, Role, SceneCategory
from models.call_schemas import ApplicationCreate, InvitationCreate
from services import calls, scenes, solvers
from services.actor import Actor
from services.errors import PermissionDeniedError, ServiceError

router = APIRouter(route_class=ConsoleRoute)

BEIJING = timezone(timedelta(hours=8), "北京时间")
PAGE = 12
STATUS_TEXT = {
    CallStatus.DRAFT: "草稿",
    CallStatus.PUBLISHED: "征集中",
    CallStatus.CLOSED: "已截止",
    CallStatus.UNDER_REVIEW: "评审中",
    CallStatus.AWARDED: "已揭榜",
    CallStatus.IN_PROGRESS: "攻关中",
    CallStatus.COMPLETED: "已完成",
    CallStatus.FAILED: "未成功",
    CallStatus.CANCELLED: "已撤榜",
}
APPLICATION_TEXT = {"submitted": "已提交", "awarded": "中榜", "not_awarded": "未中榜", "eliminated": "已淘汰"}
FLASH = {"applied": "揭榜申请已提交。", "invited": "已向该单位发出揭榜邀请。"}


def beijing(value: datetime) -> str:
    return value.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M（北京时间）")


def countdown(deadline: datetime, status: str) -> str:
    """Days and hours left to apply, as people read them on a hall card."""
    if status != CallStatus.PUBLISHED.value:
        return ""
    left = deadline - datetime.now(UTC)
    if left.total_seconds() <= 0:
        return "申报已截止"
    days, hours = left.days, left.seconds // 3600
    return f"距截止还有 {days} 天 {hours} 小时" if days else f"距截止仅剩 {hours} 小时"


def card(call: dict[str, Any]) -> dict[str, Any]:
    """A call as a page shows it (money in 万元, times in Beijing time)."""
    return {
        **call,
        "status_text": STATUS_TEXT.get(CallStatus(call["status"]), call["status"]),
        "budget_text": labels.wan(call["budget"]),
        "deadline_text": beijing(call["application_deadline"]),
        "countdown": countdown(call["application_deadline"], call["status"]),
        "field_text": labels.field_label(call["field_code"]),
        "region_text": labels.region_label(call["region_code"]),
        "paid_text": labels.wan(call["paid_amount"]),
        "awarded_text": labels.wan(call["awarded_amount"]),
    }


@router.get("/calls", response_class=HTMLResponse)
def hall(
    request: Request,
    user: OptionalUserDep,
    form: Annotated[str, Query(max_length=10)] = "",
    status: Annotated[str, Query(max_length=20)] = "",
    field: Annotated[str, Query(max_length=16)] = "",
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
) -> Response:
    """揭榜挂帅大厅: calls with budget, deadline countdown and status; filters by form, status and field."""
    chosen_form = CallForm(form) if form in {f.value for f in CallForm} else None
    chosen_status = CallStatus(status) if status in {s.value for s in CallStatus} else None
    actor = user.actor if user else PUBLIC_ACTOR
    found = calls.list_calls(
        db_engine(request),
        actor,
        form=chosen_form,
        status=chosen_status,
        field_code=field if any(code == field for code, _ in labels.field_options()) else None,
        offset=(page - 1) * PAGE,
        limit=PAGE,
    )
    context = {
        "items": [card(c) for c in found.items],
        "total": found.total,
        "page": page,
        "pages": max(1, -(-found.total // PAGE)),
        "filters": {"form": form, "status": status, "field": field},
        "forms": [f.value for f in CallForm],
        "statuses": [(s.value, STATUS_TEXT[s]) for s in CallStatus if s != CallStatus.DRAFT],
    }
    return render(request, "calls.html", context)


def _call_page(
    request: Request, user: Any, call_id: int, errors: list[str], values: dict[str, str], status: int
) -> Response:
    db = db_engine(request)
    actor = user.actor if user else PUBLIC_ACTOR
    call = card(calls.get_call(db, actor, call_id))
    mine = calls.list_applications(db, actor, call_id) if user and user.actor.org_id else []
    can_apply = (
        user is not None
        and user.role in (Role.ENTERPRISE, Role.INSTITUTION)
        and call["status"] == CallStatus.PUBLISHED.value
        and call["application_deadline"] > datetime.now(UTC)
        and user.actor.org_id != call["owner_org_id"]
        and not mine
    )
    context = {
        "call": call,
        "mine": [{**a, "status_text": APPLICATION_TEXT.get(a["status"], a["status"])} for a in mine],
        "can_apply": can_apply,
        "is_owner": bool(user and _owns(user.actor, call)),
        "errors": errors,
        "values": values,
        "flash_text": FLASH.get(request.query_params.get("done", ""), ""),
    }
    return render(request, "call.html", context, status_code=status)


def _owns(actor: Actor, call: dict[str, Any]) -> bool:
    return actor.is_admin or (actor.org_id is not None and actor.org_id == call["owner_org_id"])


@router.get("/calls/{call_id}", response_class=HTMLResponse)
def call_page(request: Request, call_id: int, user: OptionalUserDep) -> Response:
    return _call_page(request, user, call_id, [], {}, 200)


APPLICATION_FIELDS = {"proposal": "技术方案", "team": "团队成员", "price": "报价", "schedule": "进度安排"}


def _application(values: dict[str, str]) -> ApplicationCreate:
    team = [line.split(maxsplit=1) for line in values.get("team", "").splitlines() if line.strip()]
    price = values.get("price", "").replace(",", "").strip()  # the schema refuses what is not money
    return ApplicationCreate.model_validate(
        {
            "proposal": values.get("proposal", ""),
            "team": [{"name": t[0][:100], "title": (t[1] if len(t) > 1 else "")[:100]} for t in team],
            "price": price,
            "schedule": values.get("schedule", ""),
        }
    )


@router.post("/calls/{call_id}/apply")
async def apply(request: Request, call_id: int, user: CsrfUserDep) -> Response:
    """The application form: proposal, team (one member a line), price in yuan, schedule."""
    values = {k: str(v) for k, v in (await request.form()).items() if k in APPLICATION_FIELDS}
    try:
        data = _application(values)
        calls.apply(db_engine(request), user.actor, call_id, data)
    except ValidationError as exc:
        found = {str(e["loc"][0]) for e in exc.errors() if e["loc"]}
        errors = [f"“{APPLICATION_FIELDS[n]}”填写有误" for n in APPLICATION_FIELDS if n in found] or [
            "表单填写有误"
        ]
        return _call_page(request, user, call_id, errors, values, 422)
    except ServiceError as exc:
        return _call_page(request, user, call_id, [exc.message], values, exc.status)
    return redirect(f"{PREFIX}/calls/{call_id}?done=applied")


@router.get("/calls/{call_id}/review", response_class=HTMLResponse)
async def review(request: Request, call_id: int, user: UserDep) -> Response:
    """The owner's review page: the engine's recommended solvers beside the applications received."""
    db = db_engine(request)
    call = card(calls.get_call(db, user.actor, call_id))
    if not _owns(user.actor, call):
        raise PermissionDeniedError("只有发榜单位和管理员可以评审该榜单")
    recommended = await run_in_threadpool(
        solvers.recommend_solvers, db, app_state(request).index, user.actor, call_id, k=8
    )
    applications = calls.list_applications(db, user.actor, call_id)
    context = {
        "call": call,
        "recommended": recommended,
        "applications": [
            {
                **a,
                "status_text": APPLICATION_TEXT.get(a["status"], a["status"]),
                "price_text": labels.wan(a["price"]),
            }
            for a in applications
        ],
        "flash_text": FLASH.get(request.query_params.get("done", ""), ""),
    }
    return render(request, "call_review.html", context)


@router.post("/calls/{call_id}/invite")
async def invite(request: Request, call_id: int, user: CsrfUserDep) -> Response:
    form = await request.form()
    org = str(form.get("org_id", ""))
    if not org.isdigit():
        return redirect(f"{PREFIX}/calls/{call_id}/review")
    calls.invite(db_engine(request), user.actor, call_id, InvitationCreate(org_id=int(org)))
    return redirect(f"{PREFIX}/calls/{call_id}/review?done=invited")


@router.get("/scenes", response_class=HTMLResponse)
def scene_board(
    request: Request,
    user: OptionalUserDep,
    category: Annotated[str, Query(max_length=10)] = "",
) -> Response:
    """场景对接: scene needs by category, each with the solutions submitted to it."""
    db = db_engine(request)
    actor = user.actor if user else PUBLIC_ACTOR
    chosen = SceneCategory(category) if category in {c.value for c in SceneCategory} else None
    found = scenes.list_scenes(db, actor, category=chosen, limit=100)
    items = [
        {
            **s,
            "solutions": scenes.list_solutions(db, actor, s["id"]),
            "field_text": labels.field_label(s["field_code"]),
            "region_text": labels.region_label(s["region_code"]),
        }
        for s in found.items
    ]
    context = {
        "items": items,
        "total": found.total,
        "categories": [c.value for c in SceneCategory],
        "category": category,
    }
    return render(request, "scenes.html", context)
