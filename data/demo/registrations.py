"""Demo 认定登记 records: what a registrar decided on each demo contract.

Registered contracts (those ``build_contracts`` gave a registration) get a full 登记 record: 登记编号,
subtype fitting the contract type and the achievement's IP, the IP involved, 技术性收入 (the technology
part of the registered amount, below it where a contract also pays for materials, equipment or
services), term and payment method. Of the contracts still signed, the first is refused registration
(不予登记) and the second returned for correction (退回补正), each with a registrar's reason; the rest wait
in the registrar's queue. Uses its own random stream, so the other demo files do not change.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from data.reference import region_city

_TECH_SHARE = {  # 技术性收入 / 登记成交额, per mille: development and services carry non-technical costs
    "技术转让": (900, 1000),
    "技术许可": (900, 1000),
    "技术开发": (650, 900),
    "技术咨询": (800, 950),
    "技术服务": (700, 900),
}
_SUBTYPE = {
    ("技术转让", "发明专利"): "专利权转让",
    ("技术转让", "实用新型"): "专利权转让",
    ("技术转让", "技术秘密"): "技术秘密转让",
    ("技术许可", "发明专利"): "专利实施许可",
    ("技术许可", "实用新型"): "专利实施许可",
    ("技术许可", "技术秘密"): "技术秘密许可",
    ("技术转让", "软件著作权"): "其他技术转让",
    ("技术许可", "软件著作权"): "其他技术许可",
}
_OTHER_SUBTYPES = {
    "技术开发": ("委托开发", "合作开发"),
    "技术咨询": ("技术咨询",),
    "技术服务": ("技术服务", "技术培训"),
}
_PAYMENT_METHODS = ("一次总付", "分期支付", "分期支付", "提成支付", "提成支付附加预付入门费")
NOT_REGISTERED_REASON = (
    "合同约定的主要内容为市场调研和行业数据汇编，不含技术分析论证，不属于技术咨询合同，不予登记。"
)
RETURNED_REASON = "合同未载明所转让专利的专利号及有效期，缺少专利证书复印件，请补正后重新提交。"


def _money(value: Decimal) -> str:
    return str((value / 100).quantize(Decimal("1"), rounding=ROUND_HALF_UP) * 100) + ".00"


def _registrar(contract: dict[str, Any], registrars: dict[str | None, str]) -> str:
    return registrars.get(region_city(contract["region_code"]), registrars["410100"])


def _registered(
    contract: dict[str, Any], achievement: dict[str, Any], region_of: dict[str, str], rng: random.Random
) -> dict[str, Any]:
    base = contract["registration"]
    kind = contract["contract_type"]
    amount = Decimal(base["registered_amount"])
    low, high = _TECH_SHARE[kind]
    declared = Decimal(contract["tech_transaction_amount"])
    tech_income = min(Decimal(_money(amount * rng.randint(low, high) / 1000)), declared, amount)
    ip_type = str(achievement.get("ip_type") or "")
    subtype = _SUBTYPE.get((kind, ip_type)) or rng.choice(_OTHER_SUBTYPES.get(kind, ("其他技术转让",)))
    with_ip = kind in ("技术转让", "技术许可") or (kind == "技术开发" and rng.random() < 0.5)
    signed = date.fromisoformat(contract["signed_on"])
    on = date.fromisoformat(base["registered_on"])
    serial = int(contract["external_id"][1:])
    return {
        "contract_external_id": contract["external_id"],
        "registrar_org_external_id": base["registrar_org_external_id"],
        "conclusion": "登记",
        "reason": None,
        "registration_number": f"{on.year}{region_of[base['registrar_org_external_id']]}{serial:06d}",
        "registered_amount": base["registered_amount"],
        "tech_income": str(tech_income.quantize(Decimal("0.01"))),
        "registered_on": base["registered_on"],
        "subtype": subtype,
        "ip_type": ip_type if with_ip and ip_type else None,
        "ip_number": achievement.get("ip_number") if with_ip else None,
        "term_start": signed.isoformat(),
        "term_end": (signed + timedelta(days=365 * rng.randint(1, 3) - 1)).isoformat(),
        "payment_method": rng.choice(_PAYMENT_METHODS),
    }


def _decided(
    contract: dict[str, Any], registrar: str, conclusion: str, reason: str, rng: random.Random
) -> dict[str, Any]:
    signed = date.fromisoformat(contract["signed_on"])
    return {
        "contract_external_id": contract["external_id"],
        "registrar_org_external_id": registrar,
        "conclusion": conclusion,
        "reason": reason,
        "registration_number": None,
        "registered_amount": "0.00",
        "tech_income": "0.00",
        "registered_on": (signed + timedelta(days=rng.randint(10, 40))).isoformat(),
        "subtype": None,
        "ip_type": None,
        "ip_number": None,
        "term_start": None,
        "term_end": None,
        "payment_method": None,
    }


def build_registrations(
    contracts: list[dict[str, Any]],
    achievements: list[dict[str, Any]],
    orgs: list[dict[str, Any]],
    rng: random.Random,
) -> list[dict[str, Any]]:
    """One record per decided contract (see the module doc); pending contracts have none."""
    ach_by_id = {a["external_id"]: a for a in achievements}
    agencies = [o for o in orgs if o["kind"] == "registration_agency"]
    region_of = {o["external_id"]: o["region_code"][:6] for o in agencies}
    registrars = {region_city(o["region_code"]): o["external_id"] for o in agencies}
    records: list[dict[str, Any]] = []
    pending = [c for c in contracts if c["registration"] is None]
    refused = next((c for c in pending if c["contract_type"] == "技术咨询"), None)
    returned = next((c for c in pending if c["contract_type"] == "技术转让"), None)
    for contract in contracts:
        if contract["registration"] is not None:
            ach = ach_by_id.get(contract["achievement_external_id"] or "", {})
            records.append(_registered(contract, ach, region_of, rng))
        elif contract is refused:
            records.append(
                _decided(contract, _registrar(contract, registrars), "不予登记", NOT_REGISTERED_REASON, rng)
            )
        elif contract is returned:
            records.append(
                _decided(contract, _registrar(contract, registrars), "退回补正", RETURNED_REASON, rng)
            )
    return records
