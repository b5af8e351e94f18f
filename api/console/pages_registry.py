"""The 「1242」 scoreboard page (registration agencies and administrators, as the dashboard) with its
Excel download, and the broker registry (技术经纪人名录, administrators): certification, training,
standing, whether the 1000-broker goal counts each broker, and their deal record from the ledger."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from api.console import labels
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
from models import BrokerStatus, CertificationLevel, Role
from models.registry_schemas import BrokerRegistryUpdate, TrainingCreate
from services import exports, registries, scoreboard, targets
from services.errors import ServiceError
from services.registry_rules import MIN_TRAINING_HOURS, RULES

router = APIRouter(prefix="/admin", route_class=ConsoleRoute)
ReaderDep = Annotated[ConsoleUser, Depends(require(Role.REGISTRAR))]
AdminDep = Annotated[ConsoleUser, Depends(require())]
BROKER_STATUS = {
    BrokerStatus.ACTIVE: "在册",
    BrokerStatus.SUSPENDED: "暂停",
    BrokerStatus.EXPIRED: "证书过期",
}


@router.get("/scoreboard", response_class=HTMLResponse)
async def scoreboard_page(request: Request, _: ReaderDep) -> Response:
    data = await run_in_threadpool(scoreboard.scoreboard, db_engine(request))
    sections = [
        (
            key,
            title,
            [(row, labels.target_view(_as_progress(row))) for row in data["rows"] if row["section"] == key],
        )
        for key, title in data["sections"].items()
    ]
    return render(request, "scoreboard.html", {"as_of": data["as_of"], "sections": sections})


def _as_progress(row: dict[str, object]) -> dict[str, object]:
    """A scoreboard row in the shape `labels.target_view` reads."""
    return {
        **row,
        "value": row["target"],
        "actual": row["actual_in_period"],
        "metric": row["metric"],
    }


@router.get("/scoreboard.{fmt}")
async def scoreboard_file(request: Request, _: ReaderDep, fmt: Literal["csv", "xlsx"]) -> Response:
    data = await run_in_threadpool(scoreboard.scoreboard, db_engine(request))
    rows = scoreboard.export_rows(data)
    if fmt == "csv":
        body, media = await run_in_threadpool(exports.rows_to_csv, rows), "text/csv; charset=utf-8"
    else:
        body = await run_in_threadpool(exports.rows_to_xlsx, rows, "1242目标看板")  # off the event loop
        media = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return Response(
        body, media_type=media, headers={"Content-Disposition": f'attachment; filename="scoreboard.{fmt}"'}
    )


def _brokers_page(request: Request, errors: list[str], status: int) -> Response:
    rows = registries.broker_registry(db_engine(request))
    context = {
        "rows": rows,
        "counted": sum(1 for r in rows if r["counted"]),
        "rule": RULES["brokers"],
        "min_hours": MIN_TRAINING_HOURS,
        "statuses": BROKER_STATUS,
        "levels": [level.value for level in CertificationLevel],
        "errors": errors,
    }
    return render(request, "brokers.html", context, status_code=status)


@router.get("/brokers", response_class=HTMLResponse)
def brokers_page(request: Request, _: AdminDep) -> Response:
    return _brokers_page(request, [], 200)


async def _broker_form(
    request: Request,
    user: ConsoleUser,
    fields: tuple[str, ...],
    save: Callable[[dict[str, str]], object],
    invalid: str,
    flash: str,
) -> Response:
    """Validate one registry form and save it; on a mistake show the page again with the reason."""
    user.actor.require()
    form = dict(await request.form())
    values = {k: v for k in fields if (v := str(form.get(k, "")).strip())}
    try:
        save(values)
    except ValidationError:
        return _brokers_page(request, [invalid], 422)
    except ServiceError as exc:
        return _brokers_page(request, [labels.service_error(exc.code, exc.message)], exc.status)
    return redirect(f"{PREFIX}/admin/brokers?msg={flash}")


@router.post("/brokers/{broker_id}/trainings")
async def add_training(request: Request, user: CsrfUserDep, broker_id: int) -> Response:
    def save(values: dict[str, str]) -> object:
        data = TrainingCreate.model_validate(values)
        return registries.add_training(db_engine(request), user.actor, broker_id, data)

    invalid = "培训记录填写有误：请填写课程、学时（正整数）和日期。"
    return await _broker_form(request, user, ("course", "hours", "completed_on"), save, invalid, "training")


def _update(request: Request, user: ConsoleUser, broker_id: int) -> Callable[[dict[str, str]], object]:
    def save(values: dict[str, str]) -> object:
        data = BrokerRegistryUpdate.model_validate(values)
        return registries.update_broker(db_engine(request), user.actor, broker_id, data)

    return save


@router.post("/brokers/{broker_id}/certificate")
async def set_certificate(request: Request, user: CsrfUserDep, broker_id: int) -> Response:
    fields = (
        "certification_level",
        "certificate_number",
        "certificate_issuer",
        "certified_on",
        "title_track",
    )
    invalid = "证书信息填写有误：请选择等级并填写证书编号、发证机构和日期。"
    return await _broker_form(request, user, fields, _update(request, user, broker_id), invalid, "broker")


@router.post("/brokers/{broker_id}/status")
async def set_status(request: Request, user: CsrfUserDep, broker_id: int) -> Response:
    save = _update(request, user, broker_id)
    return await _broker_form(request, user, ("status",), save, "请选择有效的状态。", "broker")


@router.post("/targets/{target_id}/retire")
async def retire_target(request: Request, user: CsrfUserDep, target_id: int) -> Response:
    user.actor.require()
    targets.retire_target(db_engine(request), user.actor, target_id)
    return redirect(f"{PREFIX}/admin/targets?msg=retired")
