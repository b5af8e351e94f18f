"""Demo technology contracts (技术合同) on gold pairs, their registrations and payments.

Amounts are decimal strings in yuan. Contracts are signed in 2024-2025 so the statistics pages have
data against the targets; a few Zhengzhou contracts are 揭榜挂帅 projects (``is_open_call``) so the
30 % subsidy rule (M1) has something to compute on.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import ROUND_DOWN, Decimal
from typing import Any

from data.demo.orgs import Org
from data.reference import load_sub_centers, region_city

__all__ = ["build_contracts"]

_TYPE_BY_MODE = {
    "转让": "技术转让",
    "许可": "技术许可",
    "作价入股": "技术转让",
    "合作开发": "技术开发",
    "技术服务": "技术服务",
}
_SCHEDULES = (
    (Decimal("1"),),
    (Decimal("0.3"), Decimal("0.7")),
    (Decimal("0.3"), Decimal("0.4"), Decimal("0.3")),
)
_LAST_SIGNING = date(2025, 12, 31)
_LAST_PAYMENT = date(2026, 10, 31)
_HUNDRED = Decimal("100")


def _round_hundred(amount: Decimal) -> Decimal:
    return ((amount / _HUNDRED).quantize(Decimal("1"), rounding=ROUND_DOWN) * _HUNDRED).quantize(
        Decimal("0.01")
    )


def _sub_center(city: str | None) -> str | None:
    return next((c.code for c in load_sub_centers() if city in c.covers), None)


def _pick_pairs(gold: list[dict[str, Any]], count: int, rng: random.Random) -> list[dict[str, Any]]:
    """Distinct needs and achievements from fully relevant gold pairs."""
    candidates = [g for g in gold if g["relevance"] == 2]
    rng.shuffle(candidates)
    picked, needs, achievements = [], set(), set()
    for pair in candidates:
        if pair["need_external_id"] in needs or pair["achievement_external_id"] in achievements:
            continue
        picked.append(pair)
        needs.add(pair["need_external_id"])
        achievements.add(pair["achievement_external_id"])
        if len(picked) == count:
            break
    return sorted(picked, key=lambda p: p["need_external_id"])


def _payments(
    contract: dict[str, Any], signed: date, rng: random.Random, first_id: int
) -> list[dict[str, Any]]:
    """Instalments of a schedule; some contracts are paid in part or not yet at all."""
    amount = Decimal(contract["contract_amount"])
    schedule = rng.choice(_SCHEDULES)
    paid_count = rng.randint(0, len(schedule))
    payments: list[dict[str, Any]] = []
    day = signed
    for i, share in enumerate(schedule[:paid_count]):
        day += timedelta(days=rng.randint(10, 60) if i == 0 else rng.randint(60, 200))
        if day > _LAST_PAYMENT:
            break
        is_last = i == len(schedule) - 1
        part = (
            amount - sum(Decimal(p["amount"]) for p in payments)
            if is_last
            else (amount * share).quantize(Decimal("0.01"))
        )
        payments.append(
            {
                "external_id": f"P{first_id + len(payments):04d}",
                "contract_external_id": contract["external_id"],
                "amount": str(part),
                "paid_on": day.isoformat(),
            }
        )
    return payments


def _broker_for(field_code: str, brokers: list[dict[str, Any]], rng: random.Random) -> str:
    skilled = [b for b in brokers if field_code in b["field_codes"]] or brokers
    return str(rng.choice(skilled)["external_id"])


def _factor(rng: random.Random, low: int, high: int) -> Decimal:
    """A random multiplier in [low, high] thousandths, exact in Decimal."""
    return Decimal(rng.randint(low, high)) / 1000


def _contract(
    number: int, need: dict[str, Any], ach: dict[str, Any], *, open_call: bool, rng: random.Random
) -> tuple[dict[str, Any], date]:
    """One contract record between the need's owner (buyer) and the achievement's owner (seller)."""
    common = [m for m in need["modes"] if m in ach["modes"]] or need["modes"]
    contract_type = _TYPE_BY_MODE[rng.choice(common)]
    if contract_type == "技术服务" and rng.random() < 0.4:
        contract_type = "技术咨询"
    amount = _round_hundred(Decimal(ach["asking_price"]) * _factor(rng, 800, 1200))
    start = max(date.fromisoformat(need["published_on"]), date.fromisoformat(ach["published_on"]))
    signed = min(start + timedelta(days=rng.randint(30, 300)), _LAST_SIGNING)
    city = region_city(need["region_code"]) or need["region_code"][:6]
    record = {
        "external_id": f"C{number:03d}",
        "contract_number": f"{signed.year}{city}{rng.randint(1, 999) * 1000 + number:06d}",
        "contract_type": contract_type,
        "title": f"“{ach['title']}”{contract_type}合同",
        "need_external_id": need["external_id"],
        "achievement_external_id": ach["external_id"],
        "buyer_org_external_id": need["org_external_id"],
        "seller_org_external_id": ach["org_external_id"],
        "broker_external_id": "",
        "field_code": need["field_code"],
        "region_code": need["region_code"],
        "sub_center_code": _sub_center(city),
        "contract_amount": str(amount),
        "tech_transaction_amount": str(_round_hundred(amount * _factor(rng, 750, 1000))),
        "signed_on": signed.isoformat(),
        "is_open_call": open_call,
        "status": "signed",
        "registration": None,
    }
    return record, signed


def build_contracts(
    gold: list[dict[str, Any]],
    needs: list[dict[str, Any]],
    achievements: list[dict[str, Any]],
    orgs: list[Org],
    brokers: list[dict[str, Any]],
    rng: random.Random,
    *,
    count: int,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Contracts on ``count`` gold pairs (about 70 % registered), and the payments made on them."""
    need_by_id = {n["external_id"]: n for n in needs}
    ach_by_id = {a["external_id"]: a for a in achievements}
    registrars = {region_city(o.region_code): o.external_id for o in orgs if o.kind == "registration_agency"}
    contracts: list[dict[str, Any]] = []
    payments: list[dict[str, Any]] = []
    for i, pair in enumerate(_pick_pairs(gold, count, rng), start=1):
        need = need_by_id[pair["need_external_id"]]
        open_call = (
            region_city(need["region_code"]) == "410100" and sum(c["is_open_call"] for c in contracts) < 3
        )
        contract, signed = _contract(
            i, need, ach_by_id[pair["achievement_external_id"]], open_call=open_call, rng=rng
        )
        contract["broker_external_id"] = _broker_for(need["field_code"], brokers, rng)
        if rng.random() < 0.7:
            contract["status"] = "registered"
            contract["registration"] = {
                "registrar_org_external_id": registrars.get(
                    region_city(need["region_code"]), registrars["410100"]
                ),
                "registered_amount": contract["contract_amount"],
                "registered_on": (signed + timedelta(days=rng.randint(7, 45))).isoformat(),
            }
        contracts.append(contract)
        payments.extend(_payments(contract, signed, rng, len(payments) + 1))
    return contracts, payments
