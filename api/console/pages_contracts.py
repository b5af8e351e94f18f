"""Contract pages: the registrar's workspace (技术合同认定登记: the queue of contracts to register and the
registration form with its 认定结论) and the contract detail page (the contract, its payments and its
registration) for everyone who may see the contract. Input goes through the API's schema
(RegistrationCreate) and the same service."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from api.console import labels
from api.console.pages_manage import errors_of
from api.console.queries import org_names
from api.console.web import (
    PREFIX,
    ConsoleRoute,
    ConsoleUser,
    CsrfUserDep,
    UserDep,
    db_engine,
    redirect,
    render,
    require,
)
from models import ContractStatus, ContractType, IPType, PaymentMethod, RegistrationConclusion, Role
from models.registration import SUBTYPES
from models.schemas import RegistrationCreate
from models.types import utc_now
from services import contracts
from services.errors import ServiceError

router = APIRouter(route_class=ConsoleRoute)
RegistrarDep = Annotated[ConsoleUser, Depends(require(Role.REGISTRAR))]

REGISTRATION_FIELDS = {
    "conclusion": "认定结论",
    "reason": "理由",
    "registration_number": "登记编号",
    "registered_amount": "登记成交额",
    "tech_income": "技术性收入",
    "registered_on": "认定日期",
    "subtype": "登记类别",
    "ip_type": "涉及知识产权",
    "ip_number": "知识产权编号",
    "term_start": "合同有效期起",
    "term_end": "合同有效期止",
    "payment_method": "支付方式",
}
_MONEY_FIELDS = ("registered_amount", "tech_income")
QUEUE_LIMIT = 200


def _with_names(request: Request, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    names = org_names(db_engine(request), [i for r in rows for i in (r["buyer_org_id"], r["seller_org_id"])])
    return [
        {**r, "buyer": names.get(r["buyer_org_id"], ""), "seller": names.get(r["seller_org_id"], "")}
        for r in rows
    ]


@router.get("/registrar", response_class=HTMLResponse)
def registrar_queue(request: Request, user: RegistrarDep) -> Response:
    """Contracts waiting for 认定登记 (oldest first; returned ones show why), then recent decisions."""
    db = db_engine(request)
    waiting = contracts.list_contracts(db, user.actor, status=ContractStatus.SIGNED, limit=QUEUE_LIMIT).items
    waiting.sort(key=lambda r: (r["signed_on"], r["id"]))
    decided = [
        r
        for status in (ContractStatus.REGISTERED, ContractStatus.NOT_REGISTERED)
        for r in contracts.list_contracts(db, user.actor, status=status, limit=20).items
    ]
    decided.sort(key=lambda r: (r["registration"]["registered_on"], r["id"]), reverse=True)
    context = {"waiting": _with_names(request, waiting), "decided": _with_names(request, decided[:20])}
    return render(request, "registrar_queue.html", context)


def _form(
    request: Request,
    user: ConsoleUser,
    contract_id: int,
    values: dict[str, Any],
    errors: list[str],
    status: int,
) -> Response:
    contract = contracts.get_contract(db_engine(request), user.actor, contract_id)
    [contract] = _with_names(request, [contract])
    context = {
        "contract": contract,
        "values": values,
        "errors": errors,
        "conclusions": [c.value for c in RegistrationConclusion],
        "subtypes": [s.value for s in SUBTYPES[ContractType(contract["contract_type"])]],
        "ip_types": [t.value for t in IPType],
        "payment_methods": [m.value for m in PaymentMethod],
        "can_register": contract["status"] == ContractStatus.SIGNED.value,
    }
    return render(request, "registrar_form.html", context, status_code=status)


@router.get("/registrar/contracts/{contract_id}", response_class=HTMLResponse)
def registration_form(request: Request, user: RegistrarDep, contract_id: int) -> Response:
    contract = contracts.get_contract(db_engine(request), user.actor, contract_id)
    values = {
        "conclusion": RegistrationConclusion.REGISTERED.value,
        "registered_amount": contract["contract_amount"],
        "tech_income": contract["tech_transaction_amount"],
        "registered_on": utc_now().date().isoformat(),
        "term_start": contract["signed_on"],
    }
    return _form(request, user, contract_id, values, [], 200)


@router.post("/registrar/contracts/{contract_id}")
async def register(request: Request, user: CsrfUserDep, contract_id: int) -> Response:
    """Record the 认定结论; invalid input re-shows the form with the reasons in Chinese."""
    user.actor.require(Role.REGISTRAR)
    form = dict(await request.form())
    values: dict[str, Any] = {}
    for name in REGISTRATION_FIELDS:
        value = str(form.get(name, "")).strip()
        if value:
            values[name] = value.replace(",", "") if name in _MONEY_FIELDS else value
    submitted = dict(values)
    if values.get("conclusion") != RegistrationConclusion.REGISTERED.value:
        for name in (*_MONEY_FIELDS, "registration_number"):  # amounts belong to 登记 only
            values.pop(name, None)
    try:
        data = RegistrationCreate.model_validate(values)
        contracts.register_contract(db_engine(request), user.actor, contract_id, data)
    except ValidationError as exc:
        return _form(request, user, contract_id, submitted, errors_of(exc, REGISTRATION_FIELDS), 422)
    except ServiceError as exc:
        return _form(
            request, user, contract_id, submitted, [labels.service_error(exc.code, exc.message)], exc.status
        )
    return redirect(f"{PREFIX}/contracts/{contract_id}?msg=registered")


@router.get("/contracts/{contract_id}", response_class=HTMLResponse)
def contract_page(request: Request, user: UserDep, contract_id: int) -> Response:
    """The contract, its payments and its registration (parties, their broker, registrars, admins)."""
    contract = contracts.get_contract(db_engine(request), user.actor, contract_id)
    [contract] = _with_names(request, [contract])
    registrar = contract["registration"]["registrar_org_id"] if contract["registration"] else None
    context = {
        "contract": contract,
        "registrar": org_names(db_engine(request), [registrar]).get(registrar or 0, ""),
        "is_registrar": user.role in (Role.REGISTRAR, Role.ADMIN),
    }
    return render(request, "contract_detail.html", context)
