"""The broker workspace (经纪人工作台): the review queue, one suggestion side by side with its
explanation, accept / reject with a reason, negotiation messages, and the contract form."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from api.console import labels
from api.console.queries import org_names, user_names
from api.console.web import (
    PREFIX,
    ConsoleRoute,
    ConsoleUser,
    CsrfUserDep,
    app_state,
    db_engine,
    redirect,
    render,
    require,
)
from models import ContractType, MatchStatus, RejectReason, Role
from models.schemas import ContractCreate, MessageCreate, ReviewDecision
from models.types import utc_now
from services import contracts, negotiation, review

router = APIRouter(prefix="/broker", route_class=ConsoleRoute)
BrokerDep = Annotated[ConsoleUser, Depends(require(Role.BROKER))]

QUEUE_SORTS = {
    "-score": "得分从高到低",
    "score": "得分从低到高",
    "-created_at": "最新推荐在前",
    "created_at": "最早推荐在前",
    "rank": "推荐名次",
}
PAGE_SIZE = 25
CONTRACT_FIELDS = {
    "contract_number": "合同编号",
    "contract_type": "合同类型",
    "title": "合同名称",
    "contract_amount": "合同成交额",
    "tech_transaction_amount": "技术交易额",
    "signed_on": "签订日期",
}


@router.get("", response_class=HTMLResponse)
def broker_queue_page(
    request: Request,
    user: BrokerDep,
    status: Annotated[MatchStatus | None, Query()] = MatchStatus.ASSIGNED,
    field: Annotated[str | None, Query(max_length=16)] = None,
    sort: Annotated[str, Query(max_length=20)] = "-score",
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
    all_statuses: Annotated[bool, Query(alias="all")] = False,
) -> Response:
    """The matches assigned to this broker, filterable by status and field, sortable."""
    chosen = None if all_statuses else status
    sort = sort if sort in QUEUE_SORTS else "-score"
    rows = review.broker_queue(
        db_engine(request),
        user.actor,
        status=chosen,
        field_code=field or None,
        sort=sort,
        offset=(page - 1) * PAGE_SIZE,
        limit=PAGE_SIZE + 1,
    )
    context = {
        "rows": rows[:PAGE_SIZE],
        "has_next": len(rows) > PAGE_SIZE,
        "page": page,
        "status": chosen.value if chosen else "",
        "field": field or "",
        "sort": sort,
        "sorts": QUEUE_SORTS,
    }
    return render(request, "broker_queue.html", context)


def _detail_context(request: Request, user: ConsoleUser, match_id: int) -> dict[str, Any]:
    db = db_engine(request)
    detail = review.get_match_detail(db, user.actor, match_id)
    match = detail["match"]
    explanation = match.get("explanation") or {}
    terms = [t["term"] if isinstance(t, dict) else str(t) for t in explanation.get("shared_terms", [])]
    messages = negotiation.list_messages(db, user.actor, match_id)
    orgs = org_names(db, [detail["need"].get("org_id"), detail["achievement"].get("org_id")])
    return {
        **detail,
        "explanation": explanation,
        "terms": terms,
        "components": match.get("components") or explanation.get("components") or {},
        "flags": explanation.get("flags", []),
        "messages": messages,
        "authors": user_names(db, [m["author_id"] for m in messages]),
        "orgs": orgs,
        "can_decide": match["status"] == MatchStatus.ASSIGNED.value,
        "can_message": match["status"] in (MatchStatus.ACCEPTED.value, MatchStatus.NEGOTIATING.value),
        "can_contract": match["status"] in (MatchStatus.ACCEPTED.value, MatchStatus.NEGOTIATING.value),
        "reasons": labels.REJECT_REASON,
        "error": None,
    }


@router.get("/matches/{match_id}", response_class=HTMLResponse)
def match_page(request: Request, user: BrokerDep, match_id: int) -> Response:
    return render(request, "broker_match.html", _detail_context(request, user, match_id))


@router.post("/matches/{match_id}/decide")
def decide_match(
    request: Request,
    user: CsrfUserDep,
    match_id: int,
    decision: Annotated[str, Form(pattern="^(accept|reject)$")],
    reason: Annotated[RejectReason | None, Form()] = None,
    comment: Annotated[str, Form(max_length=1000)] = "",
    expected_version: Annotated[int | None, Form()] = None,
) -> Response:
    """Accept in one click, or reject with a reason code (and a comment for 'other')."""
    user.actor.require(Role.BROKER)
    try:
        data = ReviewDecision(
            accept=decision == "accept",
            reason=None if decision == "accept" else reason,
            comment=comment.strip() or None,
            expected_version=expected_version,
        )
    except ValidationError:
        context = _detail_context(request, user, match_id)
        context["error"] = "驳回时请选择原因；选择“其他”时请填写说明。"
        return render(request, "broker_match.html", context, status_code=422)
    review.decide(db_engine(request), user.actor, match_id, data)
    return redirect(f"{PREFIX}/broker/matches/{match_id}?msg={'accepted' if data.accept else 'rejected'}")


@router.post("/matches/{match_id}/messages")
def post_message(
    request: Request,
    user: CsrfUserDep,
    match_id: int,
    body: Annotated[str, Form(min_length=1, max_length=5000)],
) -> Response:
    user.actor.require(Role.BROKER)
    negotiation.post_message(db_engine(request), user.actor, match_id, MessageCreate(body=body))
    return redirect(f"{PREFIX}/broker/matches/{match_id}?msg=message#messages")


def _contract_form(
    request: Request, user: ConsoleUser, match_id: int, values: dict[str, str], errors: list[str], status: int
) -> Response:
    detail = review.get_match_detail(db_engine(request), user.actor, match_id)
    context = {
        **detail,
        "values": values,
        "errors": errors,
        "types": [t.value for t in ContractType],
        "labels": CONTRACT_FIELDS,
    }
    return render(request, "contract_form.html", context, status_code=status)


@router.get("/matches/{match_id}/contract", response_class=HTMLResponse)
def contract_form(request: Request, user: BrokerDep, match_id: int) -> Response:
    detail = review.get_match_detail(db_engine(request), user.actor, match_id)
    values = {
        "title": detail["need"]["title"],
        "signed_on": utc_now().date().isoformat(),
        "contract_type": "",
    }
    return _contract_form(request, user, match_id, values, [], 200)


@router.post("/matches/{match_id}/contract")
def create_contract(
    request: Request,
    user: CsrfUserDep,
    match_id: int,
    contract_number: Annotated[str, Form(max_length=64)] = "",
    contract_type: Annotated[str, Form(max_length=16)] = "",
    title: Annotated[str, Form(max_length=200)] = "",
    contract_amount: Annotated[str, Form(max_length=24)] = "",
    tech_transaction_amount: Annotated[str, Form(max_length=24)] = "",
    signed_on: Annotated[str, Form(max_length=10)] = "",
    is_open_call: Annotated[bool, Form()] = False,
) -> Response:
    """Record the contract of an accepted match; invalid input re-shows the form with the reasons."""
    user.actor.require(Role.BROKER)
    values = {
        "contract_number": contract_number,
        "contract_type": contract_type,
        "title": title,
        "contract_amount": contract_amount.replace(",", "").strip(),
        "tech_transaction_amount": tech_transaction_amount.replace(",", "").strip(),
        "signed_on": signed_on,
    }
    try:
        data = ContractCreate.model_validate({**values, "match_id": match_id, "is_open_call": is_open_call})
    except ValidationError as exc:
        errors = _contract_errors(exc)
        return _contract_form(request, user, match_id, values, errors, 422)
    contracts.create_contract(db_engine(request), user.actor, data, index=app_state(request).index)
    return redirect(f"{PREFIX}/broker/matches/{match_id}?msg=contract")


def _contract_errors(exc: ValidationError) -> list[str]:
    """Chinese messages naming the fields that failed (pydantic's own text stays out of the page)."""
    messages = []
    for error in exc.errors():
        name = str(error["loc"][0]) if error["loc"] else ""
        if name in CONTRACT_FIELDS:
            messages.append(f"“{CONTRACT_FIELDS[name]}”填写有误")
        elif "tech_transaction_amount" in str(error.get("msg", "")):
            messages.append("技术交易额不能大于合同成交额")
        else:
            messages.append("表单填写有误")
    return sorted(set(messages))
