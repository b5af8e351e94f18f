"""The contract ledger: technology contracts (技术合同), payments, registration (认定登记), cancellation,
and the public trading-hall board.

Rules enforced here (refused operations change nothing, the transaction rolls back):
* amounts are Decimal yuan, ≥ 0, two decimals (the schemas check; the service re-checks the sums);
* tech_transaction_amount ≤ contract_amount; the payments of a contract never exceed its amount;
* a contract is registered once (``already_registered``), by a registrar of a registration agency;
* a contract from a match takes buyer = the need's org, seller = the achievement's org, the broker,
  the field and the need's region, and marks the match contracted;
* cancelling keeps the payments and the registration (history) but drops the contract from statistics.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import func, or_
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from data.db import lock_row, session_scope
from data.reference import is_known_region, load_sub_centers, region_city
from models import (
    Achievement,
    Contract,
    ContractStatus,
    Match,
    MatchStatus,
    Need,
    Organization,
    OrgKind,
    Payment,
    Registration,
    Role,
)
from models.schemas import ContractCreate, ContractRead, PaymentCreate, RegistrationCreate
from models.transitions import CONTRACT_TRANSITIONS
from models.types import utc_now
from models.validators import validate_money
from services import audit
from services.actor import Actor
from services.board import party_label, recent_contracts
from services.errors import ConflictError, InvalidInputError, NotFoundError, PermissionDeniedError
from services.postings import Page, check_codes
from services.review import change_match, checked_transition, get_match

__all__ = [
    "add_payment",
    "cancel_contract",
    "contract_view",
    "create_contract",
    "get_contract",
    "list_contracts",
    "party_label",
    "recent_contracts",
    "register_contract",
    "sub_center_for",
]

_CONTRACTING = frozenset({MatchStatus.ACCEPTED, MatchStatus.NEGOTIATING})
_CENT = Decimal("0.01")


def _amount(value: Decimal, name: str, *, positive: bool = False) -> Decimal:
    """Re-check a money value (defence in depth: callers may bypass the schemas)."""
    try:
        amount = validate_money(value, name=name)
    except (ValueError, TypeError) as exc:
        raise InvalidInputError(str(exc), code="invalid_amount") from exc
    if positive and amount <= 0:
        raise InvalidInputError(f"{name} must be positive", code="invalid_amount")
    return amount


def sub_center_for(region_code: str) -> str | None:
    """The sub-centre (分中心) whose cities include the region's city; None = the Center itself."""
    city = region_city(region_code) if is_known_region(region_code) else None
    return next((c.code for c in load_sub_centers() if city is not None and city in c.covers), None)


def contract_view(contract: Contract, session: Session | None = None) -> dict[str, Any]:
    """The read model (JSON-ready: money as strings), with paid and registered amounts if a session is given."""
    data = ContractRead.model_validate(contract).model_dump(mode="json")
    data["cancel_reason"] = contract.cancel_reason
    if session is not None:
        data["paid_amount"] = str(_paid(session, contract.id or 0))
        registration = _registration(session, contract.id or 0)
        data["registration"] = (
            None
            if registration is None
            else {
                "registrar_org_id": registration.registrar_org_id,
                "registered_amount": str(registration.registered_amount),
                "registered_on": registration.registered_on.isoformat(),
            }
        )
    return data


def _paid(session: Session, contract_id: int) -> Decimal:
    total = session.exec(select(func.sum(Payment.amount)).where(Payment.contract_id == contract_id)).one()
    return Decimal(total or 0).quantize(_CENT)


def _registration(session: Session, contract_id: int) -> Registration | None:
    return session.exec(select(Registration).where(Registration.contract_id == contract_id)).first()


def _load(session: Session, contract_id: int, *, for_update: bool = False) -> Contract:
    """The contract; ``for_update`` first takes its write lock (on SQLite too, see `lock_row`), which
    serialises the changes that check sums or states against it (payments, registration, cancelling)."""
    if for_update:
        lock_row(session, Contract, contract_id)
    contract = session.exec(select(Contract).where(Contract.id == contract_id)).first()
    if contract is None:
        raise NotFoundError(f"contract {contract_id} not found")
    return contract


def _org(session: Session, org_id: int, what: str) -> Organization:
    org = session.get(Organization, org_id)
    if org is None:
        raise NotFoundError(f"{what} organisation {org_id} not found")
    return org


def _may_manage(actor: Actor, contract: Contract) -> bool:
    """Admin, the contract's broker, or a user of either party."""
    return (
        actor.is_admin
        or (actor.broker_id is not None and actor.broker_id == contract.broker_id)
        or (actor.org_id is not None and actor.org_id in {contract.buyer_org_id, contract.seller_org_id})
    )


def get_contract(db: Engine, actor: Actor, contract_id: int) -> dict[str, Any]:
    with Session(db) as session:
        contract = _load(session, contract_id)
        if not (_may_manage(actor, contract) or actor.role == Role.REGISTRAR):
            raise PermissionDeniedError(
                "only the parties, their broker, registrars and admins see this contract"
            )
        return contract_view(contract, session)


def create_contract(db: Engine, actor: Actor, data: ContractCreate) -> dict[str, Any]:
    """Record a signed contract, from an accepted or negotiating match or standalone."""
    actor.require(Role.BROKER, Role.ENTERPRISE, Role.INSTITUTION)
    amount = _amount(data.contract_amount, "contract_amount")
    if _amount(data.tech_transaction_amount, "tech_transaction_amount") > amount:
        raise InvalidInputError(
            "tech_transaction_amount must not exceed contract_amount", code="invalid_amount"
        )
    with session_scope(db) as session:
        if session.exec(select(Contract.id).where(Contract.contract_number == data.contract_number)).first():
            raise ConflictError(
                f"contract number {data.contract_number!r} is already recorded",
                code="duplicate_contract_number",
            )
        match: Match | None = None
        if data.match_id is not None:
            match, contract = _from_match(session, data)
        else:
            contract = _standalone(session, actor, data)
        contract.created_by = actor.user_id
        if not _may_manage(actor, contract):
            raise PermissionDeniedError("you can record only contracts you are a party or the broker of")
        check_codes(contract.field_code, contract.region_code)
        if match is not None:
            change_match(session, actor, match, MatchStatus.CONTRACTED, "stage:contracted")
        contract.sub_center_code = sub_center_for(contract.region_code)
        session.add(contract)
        try:
            session.flush()
        except IntegrityError as exc:
            raise ConflictError(
                "this contract (number or match) is already recorded", code="duplicate"
            ) from exc
        audit.record(session, actor, "contract", contract.id or 0, "create", after=audit.snapshot(contract))
        return contract_view(contract, session)


def _contract_fields(data: ContractCreate) -> dict[str, Any]:
    return data.model_dump(
        include={
            "contract_number",
            "contract_type",
            "title",
            "contract_amount",
            "tech_transaction_amount",
            "signed_on",
            "is_open_call",
        }
    )


def _from_match(session: Session, data: ContractCreate) -> tuple[Match, Contract]:
    match = get_match(session, data.match_id or 0)
    if match.status not in _CONTRACTING:
        raise ConflictError(
            f"a contract needs an accepted or negotiating match; match {match.id} is {match.status.value}",
            code="invalid_transition",
        )
    need = session.get(Need, match.need_id)
    achievement = session.get(Achievement, match.achievement_id)
    assert need is not None and achievement is not None  # foreign keys
    for given, actual, side in (
        (data.buyer_org_id, need.org_id, "buyer"),
        (data.seller_org_id, achievement.org_id, "seller"),
    ):
        if given is not None and given != actual:
            raise InvalidInputError(
                f"the {side} of a match contract is organisation {actual}", code="party_mismatch"
            )
    contract = Contract(
        **_contract_fields(data),
        match_id=match.id,
        buyer_org_id=need.org_id,
        seller_org_id=achievement.org_id,
        broker_id=match.broker_id,
        field_code=data.field_code or need.field_code,
        region_code=data.region_code or need.region_code,
    )
    return match, contract


def _standalone(session: Session, actor: Actor, data: ContractCreate) -> Contract:
    buyer = _org(session, data.buyer_org_id or 0, "buyer")
    seller = _org(session, data.seller_org_id or 0, "seller")
    if buyer.id == seller.id:
        raise InvalidInputError("buyer and seller must be different organisations", code="same_party")
    if data.field_code is None:
        raise InvalidInputError("a contract without a match needs a field_code", code="field_required")
    return Contract(
        **_contract_fields(data),
        buyer_org_id=buyer.id or 0,
        seller_org_id=seller.id or 0,
        broker_id=actor.broker_id if actor.role == Role.BROKER else None,
        field_code=data.field_code,
        region_code=data.region_code or buyer.region_code,
    )


def add_payment(db: Engine, actor: Actor, contract_id: int, data: PaymentCreate) -> dict[str, Any]:
    """Record an actual payment; the payments of a contract never exceed its amount."""
    amount = _amount(data.amount, "amount", positive=True)
    with session_scope(db) as session:
        contract = _load(session, contract_id, for_update=True)
        if not _may_manage(actor, contract):
            raise PermissionDeniedError("only the parties, their broker and admins record payments")
        if contract.status == ContractStatus.CANCELLED:
            raise ConflictError(f"contract {contract_id} is cancelled", code="contract_cancelled")
        if data.paid_on < contract.signed_on:
            raise InvalidInputError(
                "a payment cannot precede the signing date", code="payment_before_signing"
            )
        paid = _paid(session, contract_id)
        if paid + amount > contract.contract_amount:
            raise InvalidInputError(
                f"payments would total {paid + amount}, above the contract amount {contract.contract_amount}"
                f" (already paid {paid})",
                code="payments_exceed_contract",
            )
        payment = Payment(contract_id=contract_id, amount=amount, paid_on=data.paid_on)
        session.add(payment)
        session.flush()
        audit.record(session, actor, "payment", payment.id or 0, "create", after=audit.snapshot(payment))
        return {
            "id": payment.id,
            "contract_id": contract_id,
            "amount": str(payment.amount),
            "paid_on": payment.paid_on.isoformat(),
            "paid_total": str(paid + amount),
        }


def register_contract(db: Engine, actor: Actor, contract_id: int, data: RegistrationCreate) -> dict[str, Any]:
    """认定登记 by a registration agency: once per contract, at most the contract amount."""
    actor.require(Role.REGISTRAR)
    registered_amount = _amount(data.registered_amount, "registered_amount")
    with session_scope(db) as session:
        contract = _load(session, contract_id, for_update=True)
        registrar = _registrar(session, actor, data)
        if _registration(session, contract_id) is not None:
            raise ConflictError(f"contract {contract_id} is already registered", code="already_registered")
        checked_transition("contract", CONTRACT_TRANSITIONS, contract.status, ContractStatus.REGISTERED)
        if registered_amount > contract.contract_amount:
            raise InvalidInputError(
                "the registered amount exceeds the contract amount", code="invalid_amount"
            )
        if data.registered_on < contract.signed_on:
            raise InvalidInputError("registration cannot precede signing", code="registration_before_signing")
        before = audit.snapshot(contract, ("status",))
        registration = Registration(
            contract_id=contract_id,
            registrar_org_id=registrar.id or 0,
            registered_amount=registered_amount,
            registered_on=data.registered_on,
        )
        contract.status = ContractStatus.REGISTERED
        session.add_all([registration, contract])
        try:
            session.flush()
        except IntegrityError as exc:  # a concurrent registration won the race
            raise ConflictError(
                f"contract {contract_id} is already registered", code="already_registered"
            ) from exc
        audit.record(
            session,
            actor,
            "contract",
            contract_id,
            "register",
            before=before,
            after=audit.snapshot(registration),
        )
        return contract_view(contract, session)


def _registrar(session: Session, actor: Actor, data: RegistrationCreate) -> Organization:
    if actor.is_admin and data.registrar_org_id is not None:
        org_id: int | None = data.registrar_org_id
    else:
        if data.registrar_org_id is not None and data.registrar_org_id != actor.org_id:
            raise PermissionDeniedError("a registrar registers for its own agency only")
        org_id = actor.org_id
    if org_id is None:
        raise InvalidInputError("registrar_org_id is needed", code="registrar_required")
    org = _org(session, org_id, "registrar")
    if org.kind != OrgKind.REGISTRATION_AGENCY:
        raise InvalidInputError(f"organisation {org_id} is not a registration agency", code="not_a_registrar")
    return org


def cancel_contract(db: Engine, actor: Actor, contract_id: int, reason: str) -> dict[str, Any]:
    """Cancel (作废) a contract: history stays, statistics drop it."""
    if not reason.strip():
        raise InvalidInputError("a cancellation needs a reason", code="reason_required")
    with session_scope(db) as session:
        contract = _load(session, contract_id, for_update=True)
        if not (actor.is_admin or (actor.broker_id is not None and actor.broker_id == contract.broker_id)):
            raise PermissionDeniedError("only the contract's broker or an admin cancels a contract")
        checked_transition("contract", CONTRACT_TRANSITIONS, contract.status, ContractStatus.CANCELLED)
        before = audit.snapshot(contract, ("status", "cancelled_at", "cancel_reason"))
        contract.status = ContractStatus.CANCELLED
        contract.cancelled_at = utc_now()
        contract.cancel_reason = reason.strip()[:500]
        session.add(contract)
        session.flush()
        audit.record(
            session,
            actor,
            "contract",
            contract_id,
            "cancel",
            before=before,
            after=audit.snapshot(contract, ("status", "cancelled_at", "cancel_reason")),
        )
        return contract_view(contract, session)


def list_contracts(
    db: Engine,
    actor: Actor,
    *,
    status: ContractStatus | None = None,
    year: int | None = None,
    org_id: int | None = None,
    offset: int = 0,
    limit: int = 50,
) -> Page:
    """Contracts the actor may see: all for admins and registrars, own for brokers and parties."""
    conditions: list[Any] = []
    if not (actor.is_admin or actor.role == Role.REGISTRAR):
        mine: list[Any] = []
        if actor.broker_id is not None:
            mine.append(Contract.broker_id == actor.broker_id)
        if actor.org_id is not None:
            mine += [Contract.buyer_org_id == actor.org_id, Contract.seller_org_id == actor.org_id]
        if not mine:
            raise PermissionDeniedError("no contracts are visible to this actor")
        conditions.append(or_(*mine))
    if status is not None:
        conditions.append(Contract.status == status)
    if year is not None:
        conditions.append(col(Contract.signed_on).between(date(year, 1, 1), date(year, 12, 31)))
    if org_id is not None:
        conditions.append(or_(col(Contract.buyer_org_id) == org_id, col(Contract.seller_org_id) == org_id))
    with Session(db) as session:
        total = session.exec(select(func.count()).select_from(Contract).where(*conditions)).one()
        rows = session.exec(
            select(Contract)
            .where(*conditions)
            .order_by(col(Contract.signed_on).desc(), col(Contract.id).desc())
            .offset(max(offset, 0))
            .limit(min(max(limit, 1), 500))
        ).all()
        return Page([contract_view(c, session) for c in rows], int(total), offset, limit)
