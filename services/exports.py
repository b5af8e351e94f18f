"""Exportable tables (CSV for any tool, Excel for the administrators) and the annual report.

CSV is UTF-8 with a byte-order mark so Excel opens Chinese text correctly. Money stays exact: CSV
writes the Decimal's digits, Excel cells get the Decimal (stored as its decimal text) with a
``#,##0.00`` format.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from models import Broker, Contract, Match, Organization, Payment, Registration, User
from services.actor import Actor
from services.errors import InvalidInputError
from services.stats import (
    field_label,
    funnel,
    load_deals,
    period_bounds,
    region_label,
    turnover,
    within,
)
from services.subsidies import compute_subsidies
from services.targets import target_progress

__all__ = [
    "EXPORT_TABLES",
    "annual_report",
    "export_table",
    "rows_to_csv",
    "rows_to_xlsx",
    "tables_to_xlsx",
]

Rows = Sequence[Mapping[str, Any]]
EXPORT_TABLES = ("contracts", "payments", "matches", "targets", "subsidies")
_SHEET_BAD = re.compile(r"[\[\]:*?/\\]")


def _columns(rows: Rows) -> list[str]:
    seen: dict[str, None] = {}
    for row in rows:
        for key in row:
            seen.setdefault(key, None)
    return list(seen)


def _text(value: Any) -> str:
    """One CSV cell: exact money digits, ISO dates, JSON for nested values, empty for None."""
    if value is None:
        return ""
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list | tuple):
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value)


def rows_to_csv(rows: Rows) -> bytes:
    """CSV bytes (UTF-8 with BOM, header from the keys in first-seen order)."""
    buffer = io.StringIO()
    columns = _columns(rows)
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_text(row.get(c)) for c in columns])
    return buffer.getvalue().encode("utf-8-sig")


def _cell(value: Any) -> Any:
    if isinstance(value, str):
        return ILLEGAL_CHARACTERS_RE.sub("", value)  # Excel cells cannot hold control characters
    if value is None or isinstance(value, bool | int | Decimal):
        return value
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value
    return _text(value)


def _fill_sheet(ws: Any, rows: Rows) -> None:
    columns = _columns(rows)
    ws.append(columns)
    for row in rows:
        ws.append([_cell(row.get(c)) for c in columns])
        for cell in ws[ws.max_row]:
            if isinstance(cell.value, Decimal):
                cell.number_format = "#,##0.00"
            elif isinstance(cell.value, date):
                cell.number_format = "yyyy-mm-dd"
    for index, name in enumerate(columns, start=1):
        ws.column_dimensions[ws.cell(row=1, column=index).column_letter].width = max(
            10, min(40, len(name) + 4)
        )


def _sheet_name(name: str) -> str:
    return _SHEET_BAD.sub("_", name)[:31] or "sheet"


def tables_to_xlsx(tables: Mapping[str, Rows]) -> bytes:
    """An Excel workbook with one sheet per table."""
    workbook = Workbook()
    first = True
    for name, rows in tables.items():
        ws = workbook.active if first else workbook.create_sheet()
        ws.title = _sheet_name(name)
        _fill_sheet(ws, rows)
        first = False
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def rows_to_xlsx(rows: Rows, sheet: str) -> bytes:
    """An Excel workbook with one sheet."""
    return tables_to_xlsx({sheet: rows})


def _contract_rows(session: Session, year: int | None) -> list[dict[str, Any]]:
    query = (
        select(Contract, Registration)
        .outerjoin(Registration, col(Registration.contract_id) == Contract.id)
        .order_by(col(Contract.signed_on), col(Contract.id))
    )
    lo, hi = period_bounds(year, None, None)
    if lo is not None and hi is not None:
        query = query.where(col(Contract.signed_on).between(lo, hi))
    orgs = {o.id: o.name for o in session.exec(select(Organization)).all()}
    brokers = dict(
        session.exec(
            select(col(Broker.id), col(User.display_name)).join(User, col(User.id) == Broker.user_id)
        ).all()
    )
    paid = _paid_by_contract(session)
    return [
        {
            "contract_number": c.contract_number,
            "title": c.title,
            "contract_type": c.contract_type.value,
            "signed_on": c.signed_on,
            "buyer": orgs.get(c.buyer_org_id),
            "seller": orgs.get(c.seller_org_id),
            "broker": brokers.get(c.broker_id) if c.broker_id is not None else None,
            "field_code": c.field_code,
            "field_name": field_label(c.field_code),
            "region_code": c.region_code,
            "region_name": region_label(c.region_code),
            "sub_center_code": c.sub_center_code,
            "is_open_call": c.is_open_call,
            "contract_amount": c.contract_amount,
            "tech_transaction_amount": c.tech_transaction_amount,
            "paid_amount": paid.get(c.id or 0, Decimal("0.00")),
            "registration_conclusion": reg.conclusion.value if reg else None,
            "registration_reason": reg.reason if reg else None,
            "registration_number": reg.registration_number if reg else None,
            "registered_amount": reg.registered_amount if reg else None,
            "tech_income": reg.tech_income if reg else None,
            "registration_subtype": reg.subtype.value if reg and reg.subtype else None,
            "registered_on": reg.registered_on if reg else None,
            "registrar": orgs.get(reg.registrar_org_id) if reg else None,
            "status": c.status.value,
        }
        for c, reg in session.exec(query).all()
    ]


def _paid_by_contract(session: Session) -> dict[int, Decimal]:
    totals: dict[int, Decimal] = {}
    for p in session.exec(select(Payment)).all():
        totals[p.contract_id] = totals.get(p.contract_id, Decimal("0.00")) + p.amount
    return totals


def _payment_rows(session: Session, year: int | None) -> list[dict[str, Any]]:
    query = select(Payment, Contract.contract_number).join(Contract, col(Contract.id) == Payment.contract_id)
    lo, hi = period_bounds(year, None, None)
    if lo is not None and hi is not None:
        query = query.where(col(Payment.paid_on).between(lo, hi))
    rows = session.exec(query.order_by(col(Payment.paid_on), col(Payment.id))).all()
    return [{"contract_number": n, "amount": p.amount, "paid_on": p.paid_on} for p, n in rows]


def _match_rows(session: Session) -> list[dict[str, Any]]:
    rows = session.exec(select(Match).order_by(col(Match.id))).all()
    return [
        {
            "id": m.id,
            "need_id": m.need_id,
            "achievement_id": m.achievement_id,
            "score": m.score,
            "rank": m.rank,
            "status": m.status.value,
            "broker_id": m.broker_id,
            "reject_reason": m.reject_reason.value if m.reject_reason else None,
            "decided_at": m.decided_at,
            "engine_version": m.engine_version,
        }
        for m in rows
    ]


def export_table(db: Engine, actor: Actor, name: str, *, year: int | None = None) -> list[dict[str, Any]]:
    """The rows of one exportable table (admin only): contracts, payments, matches, targets, subsidies."""
    actor.require()
    if name == "targets":
        return target_progress(db)
    if name == "subsidies":
        if year is None:
            raise InvalidInputError("the subsidies table needs a year", code="year_required")
        return compute_subsidies(db, year=year)
    with Session(db) as session:
        if name == "contracts":
            return _contract_rows(session, year)
        if name == "payments":
            return _payment_rows(session, year)
        if name == "matches":
            return _match_rows(session)
    raise InvalidInputError(
        f"unknown table {name!r}; choose one of {', '.join(EXPORT_TABLES)}", code="unknown_table"
    )


def _summary(db: Engine, year: int, region_code: str | None) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for y in (year - 1, year):
        with Session(db) as session:
            deals = load_deals(session, start=date(y, 1, 1), end=date(y, 12, 31), region_code=region_code)
        row: dict[str, Any] = {
            "year": y,
            "region": region_label(region_code) if region_code else "全部",
            "contracts": len(deals),
            "contract_amount": sum((d.contract_amount for d in deals), Decimal("0.00")),
            "tech_transaction_amount": sum((d.tech_transaction_amount for d in deals), Decimal("0.00")),
            "registered_amount": sum((d.registered_amount for d in deals), Decimal("0.00")),
        }
        rows.append(row)
    previous: Decimal = rows[0]["contract_amount"]
    current: Decimal = rows[1]["contract_amount"]
    growth = ((current - previous) * 100 / previous).quantize(Decimal("0.01")) if previous else None
    rows[1]["growth_percent"] = growth
    return rows


def annual_report(
    db: Engine, *, year: int, region_code: str | None = None
) -> dict[str, list[dict[str, Any]]]:
    """The tables of a year's report (科技成果转化年度统计): summary with growth, turnover by period,
    city, field, contract type, unit kind, sub-centre and broker, top sellers, funnel, targets, subsidies."""
    by = {
        group: turnover(db, group_by=group, year=year, region_code=region_code)
        for group in (
            "month",
            "quarter",
            "city",
            "field",
            "contract_type",
            "org_kind",
            "sub_center",
            "broker",
            "open_call",
        )
    }
    stages = funnel(db, year=year, region_code=region_code)["stages"]
    progress = [
        t
        for t in target_progress(db, today=date(year, 12, 31))
        if t["period_start"].year <= year <= t["period_end"].year
    ]
    subsidies = compute_subsidies(db, year=year)
    if region_code is not None:
        subsidies = [s for s in subsidies if within(s["beneficiary_region_code"], region_code)]
    return {
        "summary": _summary(db, year, region_code),
        **{f"by_{group}": rows for group, rows in by.items()},
        "top_sellers": turnover(db, group_by="org", year=year, region_code=region_code)[:20],
        "funnel": stages,
        "targets": progress,
        "subsidies": subsidies,
    }
