"""Management forms for administrators: turnover targets and subsidy policy rules. Input is validated by
the same schemas as the API (TargetCreate, PolicyRuleCreate) and written by the same services."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from api.console import labels
from api.console.queries import policy_rules
from api.console.tables import target_rows
from api.console.web import (
    PREFIX,
    ConsoleRoute,
    ConsoleUser,
    CsrfUserDep,
    db_engine,
    redirect,
    render,
    require,
)
from models import PolicyBase, PolicyPer, TargetKind, TargetMetric
from models.schemas import PolicyRuleCreate, TargetCreate
from services import subsidies, targets
from services.errors import ServiceError

router = APIRouter(prefix="/admin", route_class=ConsoleRoute)
AdminDep = Annotated[ConsoleUser, Depends(require())]

TARGET_FIELDS = {
    "code": "编号",
    "name": "名称",
    "scope": "范围",
    "region_code": "地区",
    "org_id": "单位编号",
    "metric": "指标",
    "kind": "目标类型",
    "period_start": "起始日期",
    "period_end": "截止日期",
    "value": "目标值",
    "factor": "倍数",
    "baseline_year": "基期年份",
    "reference_region_code": "对比地区",
    "baseline": "基期值",
    "source": "依据",
}
RULE_FIELDS = {
    "code": "编号",
    "name": "名称",
    "rate": "比例",
    "base": "计算基数",
    "cap": "上限",
    "per": "补贴对象",
    "period": "计算周期",
    "region_code": "适用地区",
    "source": "政策依据",
}


def _clean(form: dict[str, Any], fields: dict[str, str]) -> dict[str, Any]:
    """Form strings → schema input: blanks become None (optional fields), money loses its commas."""
    out: dict[str, Any] = {}
    for name in fields:
        value = str(form.get(name, "")).strip()
        if value:
            out[name] = (
                value.replace(",", "") if name in ("value", "baseline", "cap", "rate", "factor") else value
            )
    return out


def errors_of(exc: ValidationError, fields: dict[str, str]) -> list[str]:
    found = {str(e["loc"][0]) for e in exc.errors() if e["loc"]}
    named = [f"“{fields[n]}”填写有误" for n in fields if n in found]
    return named or ["表单填写有误：请检查日期先后与金额。"]


def _targets_page(request: Request, values: dict[str, Any], errors: list[str], status: int) -> Response:
    context = {
        "rows": [{**t, "view": labels.target_view(t)} for t in target_rows(db_engine(request))],
        "kinds": [(k.value, labels.TARGET_KIND[k.value]) for k in TargetKind],
        "values": values,
        "errors": errors,
        "metrics": [(m.value, labels.TARGET_METRIC.get(m.value, m.value)) for m in TargetMetric],
    }
    return render(request, "admin_targets.html", context, status_code=status)


@router.get("/targets", response_class=HTMLResponse)
def targets_page(request: Request, _: AdminDep) -> Response:
    return _targets_page(request, {}, [], 200)


@router.post("/targets")
async def create_target(request: Request, user: CsrfUserDep) -> Response:
    user.actor.require()
    values = _clean(dict(await request.form()), TARGET_FIELDS)
    return await run_in_threadpool(_save_target, request, user, values)  # database work: off the loop


def _save_target(request: Request, user: ConsoleUser, values: dict[str, Any]) -> Response:
    try:
        data = TargetCreate.model_validate(values)
        targets.create_target(db_engine(request), user.actor, data)
    except ValidationError as exc:
        return _targets_page(request, values, errors_of(exc, TARGET_FIELDS), 422)
    except ServiceError as exc:
        return _targets_page(request, values, [labels.service_error(exc.code, exc.message)], exc.status)
    return redirect(f"{PREFIX}/admin/targets?msg=target")


def _rules_page(request: Request, values: dict[str, Any], errors: list[str], status: int) -> Response:
    context = {
        "rows": policy_rules(db_engine(request)),
        "values": values,
        "errors": errors,
        "bases": [b.value for b in PolicyBase],
        "pers": [p.value for p in PolicyPer],
    }
    return render(request, "admin_rules.html", context, status_code=status)


@router.get("/rules", response_class=HTMLResponse)
def rules_page(request: Request, _: AdminDep) -> Response:
    return _rules_page(request, {}, [], 200)


@router.post("/rules")
async def create_rule(request: Request, user: CsrfUserDep) -> Response:
    user.actor.require()
    values = _clean(dict(await request.form()), RULE_FIELDS)
    return await run_in_threadpool(_save_rule, request, user, values)  # database work: off the loop


def _save_rule(request: Request, user: ConsoleUser, values: dict[str, Any]) -> Response:
    try:
        rule = PolicyRuleCreate.model_validate(values)
        subsidies.create_policy_rule(db_engine(request), user.actor, rule)
    except ValidationError as exc:
        return _rules_page(request, values, errors_of(exc, RULE_FIELDS), 422)
    except ServiceError as exc:
        return _rules_page(request, values, [labels.service_error(exc.code, exc.message)], exc.status)
    return redirect(f"{PREFIX}/admin/rules?msg=rule")
