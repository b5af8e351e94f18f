"""Statistics of 揭榜挂帅 calls and 场景 scenes: counts by status, form, field and region; budgets,
awarded and paid amounts; their share of contract turnover (same contract convention as
`services.stats`: non-cancelled contracts, by signing date)."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from typing import Any

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from models import (
    Achievement,
    AchievementKind,
    Call,
    CallStatus,
    Contract,
    ContractStatus,
    Need,
    NeedKind,
    Payment,
    PilotAgreement,
)
from services.stats import ZERO, _city, field_label, load_deals, period_bounds, region_label, within

_PUBLIC = frozenset(set(CallStatus) - {CallStatus.DRAFT, CallStatus.CANCELLED})


def _labelled(counter: Counter[str], label: Any) -> list[dict[str, Any]]:
    return [
        {"key": k, "label": label(k), "count": n}
        for k, n in sorted(counter.items(), key=lambda x: (-x[1], x[0]))
    ]


def summary(
    db: Engine,
    *,
    year: int | None = None,
    field_code: str | None = None,
    region_code: str | None = None,
) -> dict[str, Any]:
    """Calls and scenes in one table set; money from the ledger of the calls' contracts."""
    lo, hi = period_bounds(year, None, None)
    with Session(db) as session:
        calls = []
        for call in session.exec(select(Call)).all():
            posting: Need | Achievement | None = (
                session.get(Need, call.need_id)
                if call.need_id
                else session.get(Achievement, call.achievement_id)
            )
            assert posting is not None
            if field_code and not posting.field_code.startswith(field_code):
                continue
            if region_code and not within(posting.region_code, region_code):
                continue
            calls.append((call, posting))
        ids = [c.id for c, _ in calls]
        live = (col(Contract.call_id).in_(ids), Contract.status != ContractStatus.CANCELLED)
        dated = (
            *live,
            *((col(Contract.signed_on) >= lo,) if lo else ()),
            *((col(Contract.signed_on) <= hi,) if hi else ()),
        )
        awarded = session.exec(select(func.sum(Contract.contract_amount)).where(*dated)).one()
        paid_q = (
            select(func.sum(Payment.amount))
            .join(Contract, col(Contract.id) == Payment.contract_id)
            .where(*live)
        )
        if lo:
            paid_q = paid_q.where(col(Payment.paid_on) >= lo)
        if hi:
            paid_q = paid_q.where(col(Payment.paid_on) <= hi)
        paid = session.exec(paid_q).one()
        deals = load_deals(session, start=lo, end=hi, field_code=field_code, region_code=region_code)
        scenes = _scenes(session, field_code, region_code)
    turnover = sum((d.contract_amount for d in deals), ZERO)
    open_call_turnover = sum((d.contract_amount for d in deals if d.is_open_call), ZERO)
    return {
        "calls": len(calls),
        "by_status": {s.value: sum(1 for c, _ in calls if c.status == s) for s in CallStatus},
        "by_form": dict(Counter(c.form.value for c, _ in calls)),
        "by_field": _labelled(Counter(p.field_code.split(".")[0] for _, p in calls), field_label),
        "by_city": _labelled(Counter(_city(p.region_code) for _, p in calls), region_label),
        "budget_amount": sum((Decimal(c.budget) for c, _ in calls if c.status in _PUBLIC), ZERO),
        "awarded_amount": Decimal(awarded or 0).quantize(Decimal("0.01")),
        "paid_amount": Decimal(paid or 0).quantize(Decimal("0.01")),
        "open_call_turnover": open_call_turnover,
        "turnover": turnover,
        "share_of_turnover": (open_call_turnover * 100 / turnover).quantize(Decimal("0.01"))
        if turnover
        else ZERO,
        "scenes": scenes,
    }


def _scenes(session: Session, field_code: str | None, region_code: str | None) -> dict[str, Any]:
    rows = [
        s
        for s in session.exec(select(Need).where(Need.kind == NeedKind.SCENE)).all()
        if (not field_code or s.field_code.startswith(field_code))
        and (not region_code or within(s.region_code, region_code))
    ]
    ids = [s.id for s in rows]
    pilots = session.exec(select(PilotAgreement).where(col(PilotAgreement.scene_id).in_(ids))).all()
    solutions = session.exec(
        select(func.count()).select_from(Achievement).where(Achievement.kind == AchievementKind.SOLUTION)
    ).one()
    return {
        "total": len(rows),
        "by_status": dict(Counter(s.status.value for s in rows)),
        "by_category": dict(Counter(s.category.value if s.category else "其他" for s in rows)),
        "by_field": _labelled(Counter(s.field_code.split(".")[0] for s in rows), field_label),
        "solutions": int(solutions),
        "pilots": len(pilots),
        "pilot_investment": sum((Decimal(p.investment) for p in pilots), ZERO),
    }
