"""认定登记 in full: each 认定结论 changes the statistics as the rules say (services.stats.counts_in),
on SQLite and PostgreSQL; refused input changes nothing."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from sqlmodel import Session

from models import PolicyBase
from models.schemas import RegistrationCreate
from services import contracts, stats, subsidies
from services.errors import ConflictError, InvalidInputError
from tests.services.conftest import World

D = Decimal


def _contract(world: World, number: str, amount: str, tech: str, **extra: object) -> int:
    data = world.standalone(
        number, "ent", "uni", amount, date(2025, 3, 1), tech_transaction_amount=D(tech), **extra
    )
    return int(contracts.create_contract(world.engine, world.actor["admin"], data)["id"])


def _totals(world: World) -> tuple[str, str, str, int]:
    t = stats.totals(world.engine)
    return (
        str(t["contract_amount"]),
        str(t["tech_transaction_amount"]),
        str(t["registered_amount"]),
        t["contracts"],
    )


def _register(world: World, cid: int, who: str = "reg1", **fields: Any) -> dict[str, Any]:
    data = RegistrationCreate.model_validate({"registered_on": "2025-03-20", **fields})
    return contracts.register_contract(world.engine, world.actor[who], cid, data)


def _refused(
    world: World, cid: int, code: str, exc: type[Exception] = InvalidInputError, **fields: Any
) -> None:
    before = (world.counts(), _totals(world))
    with pytest.raises(exc) as err:
        _register(world, cid, **fields)
    assert getattr(err.value, "code", None) == code
    assert (world.counts(), _totals(world)) == before


def test_each_conclusion_changes_the_statistics_as_the_rules_say(world: World) -> None:
    a = _contract(world, "HT-A", "1000000.00", "900000.00")
    b = _contract(world, "HT-B", "500000.00", "500000.00", contract_type="技术服务")
    # pending: 合同成交额 and the declared 技术交易额 count, nothing is registered yet
    assert _totals(world) == ("1500000.00", "1400000.00", "0.00", 2)

    _refused(world, a, "reason_required", conclusion="退回补正")
    returned = _register(world, a, conclusion="退回补正", reason="未写明专利号及验收标准，请补正后重新提交")
    assert returned["status"] == "signed" and returned["registration"]["conclusion"] == "退回补正"
    assert returned["registration"]["registration_number"] is None
    assert _totals(world) == ("1500000.00", "1400000.00", "0.00", 2)  # 退回补正 changes nothing

    _refused(world, a, "subtype_mismatch", registered_amount="1000000.00", subtype="委托开发")
    _refused(world, a, "invalid_amount", registered_amount="1000000.00", tech_income="1000000.01")
    _refused(world, a, "invalid_amount", registered_amount="1000000.01")
    _refused(world, a, "registered_amount_required")
    _refused(world, a, "registration_before_signing", registered_amount="1.00", registered_on="2025-02-01")

    # resubmitted after correction: 登记, with everything a registrar records
    done = _register(
        world,
        a,
        registered_amount="1000000.00",
        tech_income="800000.00",
        subtype="专利权转让",
        ip_type="发明专利",
        ip_number="ZL202310000001.1",
        term_start="2025-03-01",
        term_end="2027-02-28",
        payment_method="分期支付",
    )
    reg = done["registration"]
    assert done["status"] == "registered"
    assert reg["conclusion"] == "登记" and reg["reason"] is None
    assert reg["registration_number"] == f"2025410100{a:06d}"  # year + the agency's region + serial
    assert (reg["registered_amount"], reg["tech_income"]) == ("1000000.00", "800000.00")
    assert (reg["subtype"], reg["ip_type"], reg["payment_method"]) == ("专利权转让", "发明专利", "分期支付")
    # 技术交易额 now uses the registrar's 技术性收入 (800,000), not the declared 900,000
    assert _totals(world) == ("1500000.00", "1300000.00", "1000000.00", 2)
    _refused(world, a, "already_registered", ConflictError, registered_amount="1.00")

    _refused(world, b, "reason_required", conclusion="不予登记", reason="  ")
    _refused(
        world, b, "duplicate_registration_number", ConflictError,
        registered_amount="1.00", registration_number=reg["registration_number"],
    )  # fmt: skip
    refused = _register(world, b, "reg2", conclusion="不予登记", reason="合同标的为设备买卖，不属于技术合同")
    assert refused["status"] == "not_registered"
    assert refused["registration"]["registered_amount"] == refused["registration"]["tech_income"] == "0.00"
    # 不予登记: still a signed deal (合同成交额), but no 技术交易额 and no 登记成交额
    assert _totals(world) == ("1500000.00", "800000.00", "1000000.00", 2)
    _refused(world, b, "already_registered", ConflictError, conclusion="退回补正", reason="再议")

    by_type = {r["key"]: r for r in stats.turnover(world.engine, group_by="contract_type", year=2025)}
    assert by_type["技术服务"]["tech_transaction_amount"] == by_type["技术服务"]["registered_amount"] == D(0)
    assert by_type["技术转让"]["tech_transaction_amount"] == D("800000.00")
    with Session(world.engine) as s:  # the registrars' subsidy base (M3) holds the registered contract only
        base = subsidies.base_items(s, PolicyBase.REGISTERED_TURNOVER)
    assert [(i.contract_id, i.amount, i.registrar_org_id) for i in base] == [
        (a, D("1000000.00"), world.org["reg1"])
    ]

    contracts.cancel_contract(world.engine, world.actor["admin"], b, "作废")
    assert _totals(world) == ("1000000.00", "800000.00", "1000000.00", 1)


def test_defaults_keep_old_clients_working(world: World) -> None:
    """A bare registration (amount and date, as before this issue) is 登记 with 技术性收入 = the
    declared technology amount, capped at the registered amount."""
    cid = _contract(world, "HT-C", "1000000.00", "900000.00")
    reg = _register(world, cid, registered_amount="600000.00")["registration"]
    assert (reg["conclusion"], reg["tech_income"], reg["subtype"]) == ("登记", "600000.00", None)
    assert _totals(world) == ("1000000.00", "600000.00", "600000.00", 1)
