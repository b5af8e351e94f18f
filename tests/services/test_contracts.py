"""The contract ledger refuses what the rules forbid, with a clear error, and changes nothing."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from pydantic import ValidationError
from sqlmodel import Session

from models import Achievement, Match, MatchStatus, Need, Visibility
from models.schemas import ContractCreate, MessageCreate, PaymentCreate, RegistrationCreate
from services import contracts, negotiation
from services.errors import ConflictError, InvalidInputError, NotFoundError, PermissionDeniedError
from tests.services.conftest import World

D = Decimal  # short for the many money literals below


def _contract(world: World, amount: str = "1000000.00", **extra: object) -> int:
    data = world.standalone("HT-1", "ent", "uni", amount, date(2025, 3, 1), **extra)
    return int(contracts.create_contract(world.engine, world.actor["admin"], data)["id"])


def test_amount_rules_are_enforced_by_the_schemas() -> None:
    base = {
        "contract_number": "X",
        "contract_type": "技术转让",
        "title": "t",
        "buyer_org_id": 1,
        "seller_org_id": 2,
        "field_code": "F02",
        "signed_on": "2025-01-01",
    }
    for amounts, message in (
        ({"contract_amount": "100.00", "tech_transaction_amount": "100.01"}, "must not exceed"),
        ({"contract_amount": "-1.00", "tech_transaction_amount": "0"}, "greater than or equal"),
        ({"contract_amount": "100.001", "tech_transaction_amount": "0"}, "decimal"),
    ):
        with pytest.raises(ValidationError, match=message):
            ContractCreate.model_validate({**base, **amounts})
    for amount in ("0", "-5", "1.234"):
        with pytest.raises(ValidationError):
            PaymentCreate.model_validate({"amount": amount, "paid_on": "2025-01-01"})


def test_payments_never_exceed_the_contract(world: World) -> None:
    cid = _contract(world)
    admin = world.actor["admin"]
    contracts.add_payment(
        world.engine, admin, cid, PaymentCreate(amount=D("999999.99"), paid_on=date(2025, 3, 2))
    )
    before = world.counts()
    for amount, code in (("0.02", "payments_exceed_contract"),):
        with pytest.raises(InvalidInputError) as err:
            contracts.add_payment(
                world.engine, admin, cid, PaymentCreate(amount=D(amount), paid_on=date(2025, 3, 3))
            )
        assert err.value.code == code and "above the contract amount" in err.value.message
    for bad in (D("-1.00"), D("0.001"), D("0")):  # a caller that bypasses the schema is still refused
        with pytest.raises(InvalidInputError) as err:
            contracts.add_payment(
                world.engine, admin, cid, PaymentCreate.model_construct(amount=bad, paid_on=date(2025, 3, 3))
            )
        assert err.value.code == "invalid_amount"
    with pytest.raises(InvalidInputError) as early:
        contracts.add_payment(
            world.engine, admin, cid, PaymentCreate(amount=D("0.01"), paid_on=date(2025, 2, 1))
        )
    assert early.value.code == "payment_before_signing"
    assert world.counts() == before
    last = contracts.add_payment(
        world.engine, admin, cid, PaymentCreate(amount=D("0.01"), paid_on=date(2025, 3, 3))
    )
    assert last["paid_total"] == "1000000.00"


def test_registration_once_by_a_registrar(world: World) -> None:
    cid = _contract(world)
    e, a = world.engine, world.actor
    data = RegistrationCreate(registered_amount=D("1000000.00"), registered_on=date(2025, 3, 5))
    with pytest.raises(PermissionDeniedError):
        contracts.register_contract(e, a["ent"], cid, data)
    too_much = RegistrationCreate(registered_amount=D("1000000.01"), registered_on=date(2025, 3, 5))
    with pytest.raises(InvalidInputError):
        contracts.register_contract(e, a["reg1"], cid, too_much)
    with pytest.raises(InvalidInputError) as not_registrar:  # an admin naming a non-agency organisation
        contracts.register_contract(
            e, a["admin"], cid, data.model_copy(update={"registrar_org_id": world.org["uni"]})
        )
    assert not_registrar.value.code == "not_a_registrar"
    view = contracts.register_contract(e, a["reg1"], cid, data)
    assert view["status"] == "registered" and view["registration"]["registered_amount"] == "1000000.00"
    before = world.counts()
    with pytest.raises(ConflictError) as twice:
        contracts.register_contract(e, a["reg2"], cid, data)
    assert twice.value.code == "already_registered" and world.counts() == before


def test_cancel_keeps_history_and_blocks_further_changes(world: World) -> None:
    cid = _contract(world)
    e, admin = world.engine, world.actor["admin"]
    contracts.add_payment(e, admin, cid, PaymentCreate(amount=D("10.00"), paid_on=date(2025, 3, 2)))
    with pytest.raises(PermissionDeniedError):
        contracts.cancel_contract(e, world.actor["ent"], cid, "不做了")
    assert contracts.cancel_contract(e, admin, cid, "合同解除")["paid_amount"] == "10.00"
    before = world.counts()
    with pytest.raises(ConflictError) as twice:
        contracts.cancel_contract(e, admin, cid, "again")
    assert twice.value.code == "invalid_transition"
    with pytest.raises(ConflictError):
        contracts.add_payment(e, admin, cid, PaymentCreate(amount=D("1.00"), paid_on=date(2025, 3, 4)))
    with pytest.raises(ConflictError):
        contracts.register_contract(
            e,
            world.actor["reg1"],
            cid,
            RegistrationCreate(registered_amount=D("1.00"), registered_on=date(2025, 3, 4)),
        )
    assert world.counts() == before


def test_contract_creation_refusals(world: World) -> None:
    e, a = world.engine, world.actor
    _contract(world)
    before = world.counts()
    with pytest.raises(ConflictError) as dup:
        _contract(world)
    assert dup.value.code == "duplicate_contract_number"
    with pytest.raises(PermissionDeniedError):  # an enterprise records only its own contracts
        contracts.create_contract(
            e, a["ent2"], world.standalone("HT-2", "ent", "uni", "1.00", date(2025, 1, 1))
        )
    with pytest.raises(PermissionDeniedError):
        contracts.create_contract(
            e, a["reg1"], world.standalone("HT-3", "ent", "uni", "1.00", date(2025, 1, 1))
        )
    with pytest.raises(InvalidInputError):
        contracts.create_contract(
            e, a["admin"], world.standalone("HT-4", "ent", "uni", "1.00", date(2025, 1, 1), field_code="F99")
        )
    with pytest.raises(NotFoundError):
        contracts.create_contract(
            e, a["admin"], world.standalone("HT-5", "ent", "uni", "1.00", date(2025, 1, 1), match_id=999)
        )
    assert world.counts() == before


def _match(world: World, status: MatchStatus, *, confidential: bool = False) -> int:
    vis = Visibility.CONFIDENTIAL if confidential else Visibility.PUBLIC
    with Session(world.engine) as s:
        need = Need(
            org_id=world.org["ent"],
            title="n",
            description="d",
            field_code="F02.01",
            region_code="410200",
            visibility=vis,
        )
        ach = Achievement(
            org_id=world.org["uni"], title="a", abstract="b", field_code="F02", region_code="410100"
        )
        s.add_all([need, ach])
        s.flush()
        m = Match(
            need_id=need.id or 0,
            achievement_id=ach.id or 0,
            score=1.0,
            rank=1,
            engine_version="t",
            status=status,
            broker_id=world.broker["b1"],
        )
        s.add(m)
        s.commit()
        return m.id or 0


def test_match_contract_needs_an_accepted_match_and_marks_it_contracted(world: World) -> None:
    e, b1 = world.engine, world.actor["b1"]
    rejected = _match(world, MatchStatus.REJECTED)
    before = world.counts()
    with pytest.raises(ConflictError) as refused:
        contracts.create_contract(
            e, b1, world.standalone("M-1", "ent", "uni", "5.00", date(2025, 1, 1), match_id=rejected)
        )
    assert refused.value.code == "invalid_transition" and world.counts() == before
    accepted = _match(world, MatchStatus.ACCEPTED, confidential=True)
    with pytest.raises(InvalidInputError):  # parties come from the match
        contracts.create_contract(
            e, b1, world.standalone("M-2", "ent2", "uni", "5.00", date(2025, 1, 1), match_id=accepted)
        )
    data = ContractCreate(
        contract_number="M-3",
        contract_type="技术许可",
        title="许可",
        match_id=accepted,
        contract_amount=D("5.00"),
        tech_transaction_amount=D("5.00"),
        signed_on=date(2025, 1, 1),
    )
    view = contracts.create_contract(e, b1, data)
    assert (view["field_code"], view["region_code"], view["sub_center_code"]) == ("F02.01", "410200", "SC04")
    with pytest.raises(ConflictError):  # contracted: the negotiation is over
        negotiation.post_message(e, world.actor["ent"], accepted, MessageCreate(body="还在吗"))
    board = contracts.recent_contracts(e)
    assert board[0]["buyer"] == "某企业" and board[0]["seller"] == "郑州工业大学"
    assert board[0]["contract_amount"] == D("5.00") and board[0]["region_name"] == "开封市"


def test_negotiation_stages(world: World) -> None:
    e, a = world.engine, world.actor
    match_id = _match(world, MatchStatus.ACCEPTED)
    with pytest.raises(ConflictError):  # accepted → failed skips the negotiation
        negotiation.set_stage(e, a["b1"], match_id, MatchStatus.FAILED)
    with pytest.raises(InvalidInputError):
        negotiation.set_stage(e, a["b1"], match_id, MatchStatus.ASSIGNED)
    assert negotiation.set_stage(e, a["ent"], match_id, MatchStatus.NEGOTIATING)["status"] == "negotiating"
    with pytest.raises(PermissionDeniedError):
        negotiation.set_stage(e, a["ent"], match_id, MatchStatus.CONTRACTED)
    with pytest.raises(PermissionDeniedError):
        negotiation.set_stage(e, a["ent2"], match_id, MatchStatus.WITHDRAWN)
    assert negotiation.set_stage(e, a["uni"], match_id, MatchStatus.FAILED)["status"] == "failed"
