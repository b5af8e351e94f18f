"""The contract ledger: technology contracts (技术合同), payments, registration (认定登记), cancellation,
and the public trading-hall board.

Rules enforced here (refused operations change nothing, the transaction rolls back):
* amounts are Decimal yuan, ≥ 0, two decimals (the schemas check; the service re-checks the sums);
* tech_transaction_amount ≤ contract_amount; the payments of a contract never exceed its amount;
* 认定登记 by a registrar of a registration agency ends in one 认定结论: 登记 (registered; a 登记编号,
  登记成交额 ≤ contract amount, 技术性收入 ≤ 登记成交额) or 不予登记 (not registered) close it
  (``already_registered`` afterwards); 退回补正 (returned for correction) leaves the contract signed and
  its corrected version is registered again, replacing the returned record (the audit log keeps both);
* a subtype, if given, must belong to the contract type (`models.registration.SUBTYPES`);
* a contract from a match takes buyer = the need's org, seller = the achievement's org, the broker,
  the field and the need's region, marks the match contracted and its need and achievement contracted
  (`services.ledger_postings`), which cancelling the last live contract on them undoes;
* cancelling keeps the payments and the registration (history) but drops the contract from statistics.
Which contracts count in which total is decided by `services.stats.counts_in`, nowhere else.
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
    RegistrationConclusion,
    Role,
)
from models.registration import CONCLUSION_STATUS, FINAL_CONCLUSIONS, SUBTYPES, subtype_fits
from models.schemas import ContractCreate, ContractRead, PaymentCreate, RegistrationCreate
from models.transitions import CONTRACT_TRANSITIONS
from models.types import utc_now
from models.validators import validate_money
from services import audit
from services.actor import Actor
from services.board import party_label, recent_contracts
from services.errors import ConflictError, InvalidInputError, NotFoundError, PermissionDeniedError
from services.index import IndexService
from services.ledger_postings import follow_ledger
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


_REGISTRATION_FIELDS = (
    "registrar_org_id",
    "conclusion",
    "reason",
    "registration_number",
    "registered_amount",
    "tech_income",
    "registered_on",
    "subtype",
    "ip_type",
    "ip_number",
    "term_start",
    "term_end",
    "payment_method",
)


def registration_view(registration: Registration | None) -> dict[str, Any] | None:
    """The 认定登记 record, JSON-ready (money as strings, dates ISO)."""
    if registration is None:
        return None
    return audit.snapshot(registration, _REGISTRATION_FIELDS)


def contract_view(
    contract: Contract, session: Session | None = None, *, with_payments: bool = False
) -> dict[str, Any]:
    """The read model (JSON-ready: money as strings), with paid amount and registration if a session is
    given, and the payments themselves if asked."""
    data = ContractRead.model_validate(contract).model_dump(mode="json")
    data["cancel_reason"] = contract.cancel_reason
    if session is not None:
        data["paid_amount"] = str(_paid(session, contract.id or 0))
        data["registration"] = registration_view(_registration(session, contract.id or 0))
        if with_payments:
            payments = session.exec(
                select(Payment)
                .where(Payment.contract_id == contract.id)
                .order_by(col(Payment.paid_on), col(Payment.id))
            ).all()
            data["payments"] = [
                {"id": p.id, "amount": str(p.amount), "paid_on": p.paid_on.isoformat()} for p in payments
            ]
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
        return contract_view(contract, session, with_payments=True)


def create_contract(
    db: Engine, actor: Actor, data: ContractCreate, *, index: IndexService | None = None
) -> dict[str, Any]:
    """Record a signed contract, from an accepted or negotiating match or standalone. A match contract
    marks its need and achievement contracted; ``index`` (the running service's) follows at once."""
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
        if match is not None:
            follow_ledger(session, index, actor, match)
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
    """认定登记 by a registration agency: record its 认定结论 and what it recognised (see module doc)."""
    actor.require(Role.REGISTRAR)
    with session_scope(db) as session:
        contract = _load(session, contract_id, for_update=True)  # serialises concurrent registrations
        registrar = _registrar(session, actor, data)
        existing = _registration(session, contract_id)
        if existing is not None and existing.conclusion in FINAL_CONCLUSIONS:
            raise ConflictError(
                f"contract {contract_id} already has the conclusion {existing.conclusion.value}",
                code="already_registered",
            )
        target = CONCLUSION_STATUS[data.conclusion]
        if target != contract.status:
            checked_transition("contract", CONTRACT_TRANSITIONS, contract.status, target)
        elif contract.status != ContractStatus.SIGNED:
            raise ConflictError(
                f"合同 {contract_id} 当前状态为 {contract.status.value}，不能登记", code="invalid_transition"
            )
        values = _registration_values(session, contract, registrar, data)
        before = {
            "status": contract.status.value,
            "registration": registration_view(existing),
        }
        registration = existing or Registration(contract_id=contract_id, **values)
        for name, value in values.items():
            setattr(registration, name, value)
        contract.status = target
        session.add_all([registration, contract])
        try:
            session.flush()
        except IntegrityError as exc:  # a concurrent registration won, or the number is taken
            raise ConflictError(
                f"合同 {contract_id} 已被登记，或登记编号已被占用",
                code="already_registered",
            ) from exc
        audit.record(
            session,
            actor,
            "contract",
            contract_id,
            f"register:{data.conclusion.value}",
            before=before,
            after=registration_view(registration),
        )
        return contract_view(contract, session, with_payments=True)


def _registration_values(
    session: Session, contract: Contract, registrar: Organization, data: RegistrationCreate
) -> dict[str, Any]:
    """The checked column values of one 认定登记 decision."""
    if data.registered_on < contract.signed_on:
        raise InvalidInputError("registration cannot precede signing", code="registration_before_signing")
    if data.subtype is not None and not subtype_fits(contract.contract_type, data.subtype):
        allowed = "、".join(s.value for s in SUBTYPES[contract.contract_type])
        raise InvalidInputError(
            f"{contract.contract_type.value}合同的登记类别只能是：{allowed}",
            code="subtype_mismatch",
        )
    if data.term_start is not None and data.term_end is not None and data.term_start > data.term_end:
        raise InvalidInputError("合同有效期的起始日期不能晚于截止日期", code="invalid_term")
    values: dict[str, Any] = {
        "registrar_org_id": registrar.id or 0,
        "conclusion": data.conclusion,
        "registered_on": data.registered_on,
        "subtype": data.subtype,
        "ip_type": data.ip_type,
        "ip_number": data.ip_number,
        "term_start": data.term_start,
        "term_end": data.term_end,
        "payment_method": data.payment_method,
    }
    if data.conclusion != RegistrationConclusion.REGISTERED:
        reason = (data.reason or "").strip()
        if not reason:
            raise InvalidInputError(
                f"认定结论为“{data.conclusion.value}”时必须填写理由", code="reason_required"
            )
        zero = Decimal("0.00")
        return {
            **values,
            "reason": reason,
            "registration_number": None,
            "registered_amount": zero,
            "tech_income": zero,
        }
    if data.registered_amount is None:
        raise InvalidInputError("认定结论为“登记”时必须填写登记成交额", code="registered_amount_required")
    registered = _amount(data.registered_amount, "registered_amount")
    if registered > contract.contract_amount:
        raise InvalidInputError("the registered amount exceeds the contract amount", code="invalid_amount")
    declared = min(Decimal(contract.tech_transaction_amount), registered)
    tech_income = declared if data.tech_income is None else _amount(data.tech_income, "tech_income")
    if tech_income > registered:
        raise InvalidInputError("技术性收入不能大于登记成交额", code="invalid_amount")
    number = data.registration_number or _registration_number(contract, registrar, data.registered_on)
    taken = session.exec(
        select(Registration.contract_id).where(
            Registration.registration_number == number, Registration.contract_id != contract.id
        )
    ).first()
    if taken is not None:
        raise ConflictError(f"登记编号 {number} 已被其他合同使用", code="duplicate_registration_number")
    return {
        **values,
        "reason": (data.reason or "").strip() or None,
        "registration_number": number,
        "registered_amount": registered,
        "tech_income": tech_income,
    }


def _registration_number(contract: Contract, registrar: Organization, on: date) -> str:
    """登记编号 as registration systems issue it: year, the agency's 6-digit region code, a serial
    (here the contract id, which makes it unique)."""
    region = (registrar.region_code[:6] if registrar.region_code[:6].isdigit() else "410000").ljust(6, "0")
    return f"{on.year}{region}{contract.id or 0:06d}"


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


def cancel_contract(
    db: Engine, actor: Actor, contract_id: int, reason: str, *, index: IndexService | None = None
) -> dict[str, Any]:
    """Cancel (作废) a contract: history stays, statistics drop it, its postings open again unless
    another live contract holds them (``index`` follows at once)."""
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
        if contract.match_id is not None:
            follow_ledger(session, index, actor, get_match(session, contract.match_id))
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
