"""揭榜挂帅 open calls: create, publish, apply, award, accept milestones.

A call wraps a posting (a need; for 揭榜转化 an achievement), so its text is matched, filtered and
explained by the engine like any posting. Rules enforced here (a refused operation changes nothing):
* the lifecycle is `models.transitions.CALL_TRANSITIONS`; only a draft is edited;
* applications arrive while the call is published and before its deadline (``application_deadline_passed``),
  from an organisation its eligibility admits (``not_eligible``), once per organisation;
* an applicant sees only its own applications; the owner and admins see all;
* an award creates one technology contract per winning team (技术开发; 技术转让 for 揭榜转化), flagged
  ``is_open_call`` and linked to the call, so the ledger, statistics and subsidy rule M1 see it;
* a milestone is accepted in order, once per team; a pass records the payment it releases on the team's
  contract (never above the contract amount); under 赛马制 a team that fails a milestone stops.
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from data.db import lock_row, session_scope
from models import (
    Achievement,
    ApplicationStatus,
    Call,
    CallApplication,
    CallForm,
    CallInvitation,
    CallMilestone,
    CallStatus,
    Contract,
    ContractStatus,
    ContractType,
    MilestoneAcceptance,
    Need,
    Organization,
    OrgKind,
    Payment,
    PostingStatus,
    Role,
    Visibility,
)
from models.call_schemas import (
    ApplicationCreate,
    AwardRequest,
    CallCreate,
    CallUpdate,
    InvitationCreate,
    MilestoneVerdict,
)
from models.transitions import CALL_TRANSITIONS, path_to
from models.types import utc_now
from services import audit
from services.actor import Actor
from services.contracts import sub_center_for
from services.errors import ConflictError, InvalidInputError, NotFoundError, PermissionDeniedError
from services.index import IndexService
from services.postings import Page, add_posting, check_codes
from services.review import checked_transition
from services.stats import within

__all__ = [
    "accept_milestone",
    "apply",
    "award",
    "award_contract",
    "create_call",
    "get_call",
    "invite",
    "list_applications",
    "list_calls",
    "publish_call",
    "update_call",
]

_CENT = Decimal("0.01")
SOLVER_KINDS = frozenset(
    {OrgKind.UNIVERSITY, OrgKind.INSTITUTE, OrgKind.NEW_RD_INSTITUTION, OrgKind.ENTERPRISE}
)
DEFAULT_ELIGIBLE: dict[CallForm, frozenset[OrgKind]] = {
    CallForm.CHALLENGE: SOLVER_KINDS,
    CallForm.HORSE_RACE: SOLVER_KINDS,
    CallForm.CONVERSION: frozenset({OrgKind.ENTERPRISE}),
}
OPEN_FOR_AWARD = frozenset({CallStatus.PUBLISHED, CallStatus.CLOSED, CallStatus.UNDER_REVIEW})
RUNNING = frozenset({CallStatus.AWARDED, CallStatus.IN_PROGRESS})


# -- reading ------------------------------------------------------------------------------------------


def _posting(session: Session, call: Call) -> Need | Achievement:
    row: Need | Achievement | None = (
        session.get(Need, call.need_id)
        if call.need_id is not None
        else session.get(Achievement, call.achievement_id)
    )
    assert row is not None  # foreign key
    return row


def _load(session: Session, call_id: int, *, for_update: bool = False) -> Call:
    """The call; ``for_update`` takes its write lock first (`data.db.lock_row`: FOR UPDATE is a no-op
    on SQLite), so awards and milestone verdicts on one call are serialised on every database."""
    if for_update:
        lock_row(session, Call, call_id)
    call = session.exec(select(Call).where(Call.id == call_id)).first()
    if call is None:
        raise NotFoundError(f"榜单 {call_id} 不存在", code="not_found")
    return call


def is_owner(actor: Actor, call: Call) -> bool:
    return actor.is_admin or (actor.org_id is not None and actor.org_id == call.owner_org_id)


def _visible(actor: Actor, call: Call) -> bool:
    return call.status != CallStatus.DRAFT or is_owner(actor, call)


def _milestones(session: Session, call_id: int) -> list[CallMilestone]:
    return list(
        session.exec(
            select(CallMilestone).where(CallMilestone.call_id == call_id).order_by(col(CallMilestone.seq))
        )
    )


def _money_sums(session: Session, call_id: int) -> tuple[Decimal, Decimal]:
    """(awarded contract amount, paid amount) of the call's live contracts."""
    live = (Contract.call_id == call_id, Contract.status != ContractStatus.CANCELLED)
    awarded = session.exec(select(func.sum(Contract.contract_amount)).where(*live)).one()
    paid = session.exec(
        select(func.sum(Payment.amount)).join(Contract, col(Contract.id) == Payment.contract_id).where(*live)
    ).one()
    return Decimal(awarded or 0).quantize(_CENT), Decimal(paid or 0).quantize(_CENT)


def call_view(session: Session, call: Call) -> dict[str, Any]:
    """The read model of a call, with the text of the posting it wraps (always public)."""
    posting = _posting(session, call)
    owner = session.get(Organization, call.owner_org_id)
    applications = session.exec(
        select(func.count()).select_from(CallApplication).where(CallApplication.call_id == call.id)
    ).one()
    awarded, paid = _money_sums(session, call.id or 0)
    secret = posting.visibility == Visibility.CONFIDENTIAL
    return {
        "id": call.id,
        "form": call.form.value,
        "status": call.status.value,
        "owner_org_id": call.owner_org_id,
        "owner_name": owner.name if owner else "",
        "need_id": call.need_id,
        "achievement_id": call.achievement_id,
        "title": posting.title,
        # a call is public; should its posting have been made confidential since, its text is not
        "summary": "" if secret else posting.description if isinstance(posting, Need) else posting.abstract,
        "field_code": posting.field_code,
        "region_code": posting.region_code,
        "keywords": [] if secret else list(posting.keywords),
        "indicators": call.indicators,
        "budget": call.budget,
        "application_deadline": call.application_deadline,
        "delivery_months": call.delivery_months,
        "max_teams": call.max_teams,
        "eligibility": call.eligibility,
        "milestones": [
            {
                "seq": m.seq,
                "deliverable": m.deliverable,
                "acceptance_criterion": m.acceptance_criterion,
                "payment_share": m.payment_share,
                "due_months": m.due_months,
            }
            for m in _milestones(session, call.id or 0)
        ],
        "applications": int(applications),
        "awarded_amount": awarded,
        "paid_amount": paid,
        "published_at": call.published_at,
        "created_at": call.created_at,
        "updated_at": call.updated_at,
    }


def get_call(db: Engine, actor: Actor, call_id: int) -> dict[str, Any]:
    with Session(db) as session:
        call = _load(session, call_id)
        if not _visible(actor, call):
            raise NotFoundError(f"榜单 {call_id} 不存在", code="not_found")
        return call_view(session, call)


def list_calls(
    db: Engine,
    actor: Actor,
    *,
    form: CallForm | None = None,
    status: CallStatus | None = None,
    field_code: str | None = None,
    region_code: str | None = None,
    q: str | None = None,
    open_only: bool = False,
    offset: int = 0,
    limit: int = 20,
) -> Page:
    """Calls the caller may see (drafts only of its own organisation), newest first, with filters on
    form, status, field and region (both from the wrapped posting) and a title substring."""
    check_codes(field_code, region_code)
    with Session(db) as session:
        calls = list(session.exec(select(Call).order_by(col(Call.created_at).desc(), col(Call.id).desc())))
        rows = []
        for call in calls:
            if (
                not _visible(actor, call)
                or (form and call.form != form)
                or (status and call.status != status)
            ):
                continue
            if open_only and (call.status != CallStatus.PUBLISHED or call.application_deadline <= utc_now()):
                continue
            posting = _posting(session, call)
            if field_code and not posting.field_code.startswith(field_code):
                continue
            if region_code and not within(posting.region_code, region_code):
                continue
            if q and q not in posting.title:
                continue
            rows.append(call)
        page = rows[offset : offset + limit]
        return Page([call_view(session, c) for c in page], len(rows), offset, limit)


# -- creating and publishing --------------------------------------------------------------------------


def _wrapped_posting(
    session: Session, index: IndexService, actor: Actor, data: CallCreate, org_id: int | None
) -> Need | Achievement:
    """The posting a new call wraps: a new one, or an existing public one of the caller's organisation."""
    if data.need is not None or data.achievement is not None:
        new = data.need if data.need is not None else data.achievement
        assert new is not None
        if new.visibility == Visibility.CONFIDENTIAL:
            raise InvalidInputError("榜单须公开发布，不能使用保密的需求或成果", code="confidential_call")
        return add_posting(session, index, actor, new, org_id=org_id)
    row: Need | Achievement | None = (
        session.get(Need, data.need_id)
        if data.need_id is not None
        else session.get(Achievement, data.achievement_id)
    )
    model = Need if data.need_id is not None else Achievement
    if row is None:
        raise NotFoundError(f"{'需求' if model is Need else '成果'}不存在", code="not_found")
    if not (actor.is_admin or actor.org_id == row.org_id):
        raise PermissionDeniedError("只能以本单位的需求或成果发榜")
    if row.visibility == Visibility.CONFIDENTIAL:
        raise InvalidInputError("榜单须公开发布，不能使用保密的需求或成果", code="confidential_call")
    if row.status not in (PostingStatus.DRAFT, PostingStatus.OPEN):
        raise ConflictError(f"状态为 {row.status.value} 的需求或成果不能发榜", code="invalid_transition")
    if session.exec(
        select(Call.id).where(col(Call.need_id if model is Need else Call.achievement_id) == row.id)
    ).first():
        raise ConflictError("该需求或成果已有榜单", code="duplicate")
    return row


def _set_milestones(session: Session, call_id: int, milestones: list[Any]) -> None:
    for old in _milestones(session, call_id):
        session.delete(old)
    session.flush()
    for seq, m in enumerate(milestones, start=1):
        session.add(CallMilestone(call_id=call_id, seq=seq, **m.model_dump()))


def create_call(
    db: Engine, index: IndexService, actor: Actor, data: CallCreate, org_id: int | None = None
) -> dict[str, Any]:
    """Create a draft call (enterprises, or institutions for 揭榜转化; admins on behalf of either)."""
    actor.require(Role.INSTITUTION if data.form == CallForm.CONVERSION else Role.ENTERPRISE)
    with session_scope(db) as session:
        posting = _wrapped_posting(session, index, actor, data, org_id)
        call = Call(
            form=data.form,
            owner_org_id=posting.org_id,
            need_id=posting.id if isinstance(posting, Need) else None,
            achievement_id=posting.id if isinstance(posting, Achievement) else None,
            indicators=[i.model_dump() for i in data.indicators],
            budget=data.budget,
            application_deadline=data.application_deadline,
            delivery_months=data.delivery_months,
            max_teams=data.max_teams,
            eligibility=data.eligibility.model_dump(mode="json"),
            created_by=actor.user_id,
        )
        session.add(call)
        session.flush()
        _set_milestones(session, call.id or 0, data.milestones)
        session.flush()
        audit.record(session, actor, "call", call.id or 0, "create", after=audit.snapshot(call))
        return call_view(session, call)


def _require_owner(actor: Actor, call: Call) -> None:
    if not is_owner(actor, call):
        raise PermissionDeniedError("只有发榜单位和管理员可以操作该榜单")


def update_call(db: Engine, actor: Actor, call_id: int, data: CallUpdate) -> dict[str, Any]:
    """Change a draft call (owner or admin)."""
    with session_scope(db) as session:
        call = _load(session, call_id, for_update=True)
        _require_owner(actor, call)
        if call.status != CallStatus.DRAFT:
            raise ConflictError("只有草稿状态的榜单可以修改", code="call_not_editable")
        before = audit.snapshot(call)
        changes = data.model_dump(exclude_unset=True, exclude={"milestones"}, mode="json")
        for name, value in changes.items():
            if value is None:
                raise InvalidInputError(f"{name} 不能为空", code="null_not_allowed")
            setattr(call, name, getattr(data, name) if name in ("budget", "application_deadline") else value)
        if call.max_teams > 1 and call.form != CallForm.HORSE_RACE:
            raise InvalidInputError("只有赛马制榜单可以支持多个团队", code="invalid_max_teams")
        if data.milestones is not None:
            _set_milestones(session, call_id, data.milestones)
        call.updated_at = utc_now()
        session.add(call)
        session.flush()
        audit.record(session, actor, "call", call_id, "update", before=before, after=audit.snapshot(call))
        return call_view(session, call)


def _move(session: Session, actor: Actor, call: Call, target: CallStatus) -> None:
    """Walk the call to ``target`` through every state the lifecycle puts in between, auditing each step."""
    steps = path_to(CALL_TRANSITIONS, call.status, target) or [target]
    for step in steps:
        checked_transition("call", CALL_TRANSITIONS, call.status, step)
        before = {"status": call.status.value}
        call.status = step
        call.updated_at = utc_now()
        audit.record(
            session,
            actor,
            "call",
            call.id or 0,
            f"status:{step.value}",
            before=before,
            after={"status": step.value},
        )
    session.add(call)


def publish_call(db: Engine, index: IndexService, actor: Actor, call_id: int) -> dict[str, Any]:
    """Publish a draft call (owner or admin); its posting opens (and enters the index) with it."""
    with session_scope(db) as session:
        call = _load(session, call_id, for_update=True)
        _require_owner(actor, call)
        if call.application_deadline <= utc_now():
            raise InvalidInputError("申报截止时间已过，请先修改截止时间", code="deadline_passed")
        _move(session, actor, call, CallStatus.PUBLISHED)
        call.published_at = utc_now()
        posting = _posting(session, call)
        if posting.status == PostingStatus.DRAFT:
            posting.status = PostingStatus.OPEN
            posting.updated_at = utc_now()
            session.add(posting)
            index.sync(session, posting)
        session.flush()
        return call_view(session, call)


# -- applications -------------------------------------------------------------------------------------


def _applicant(session: Session, actor: Actor, org_id: int | None) -> Organization:
    target = org_id if actor.is_admin and org_id is not None else actor.org_id
    if not actor.is_admin and org_id is not None and org_id != actor.org_id:
        raise PermissionDeniedError("只能以本单位名义揭榜")
    org = session.get(Organization, target) if target is not None else None
    if org is None:
        raise InvalidInputError("揭榜需要指定申报单位", code="org_required")
    return org


def _check_eligible(session: Session, call: Call, lead: Organization, members: list[int]) -> None:
    rules = call.eligibility
    kinds = frozenset(OrgKind(k) for k in rules.get("org_kinds") or ()) or DEFAULT_ELIGIBLE[call.form]
    if lead.id == call.owner_org_id:
        raise PermissionDeniedError("发榜单位不能揭自己的榜", code="not_eligible")
    if lead.kind not in kinds:
        raise PermissionDeniedError(f"本榜单不接受该类单位（{lead.kind.value}）申报", code="not_eligible")
    scope = rules.get("region_scope")
    if scope and not within(lead.region_code, scope):
        raise PermissionDeniedError("牵头单位不在本榜单限定的地域范围内", code="not_eligible")
    if members and not rules.get("consortium", True):
        raise PermissionDeniedError("本榜单不接受联合体申报", code="not_eligible")
    if lead.id in members or len(set(members)) != len(members):
        raise InvalidInputError("联合体成员不能重复，也不能包含牵头单位", code="invalid_consortium")
    found = session.exec(
        select(func.count()).select_from(Organization).where(col(Organization.id).in_(members))
    ).one()
    if members and int(found) != len(members):
        raise InvalidInputError("联合体成员单位不存在", code="invalid_consortium")


def application_view(a: CallApplication, names: dict[int, str]) -> dict[str, Any]:
    return {
        "id": a.id,
        "call_id": a.call_id,
        "applicant_org_id": a.applicant_org_id,
        "applicant_name": names.get(a.applicant_org_id, ""),
        "member_org_ids": a.member_org_ids,
        "member_names": [names.get(m, "") for m in a.member_org_ids],
        "proposal": a.proposal,
        "team": a.team,
        "price": a.price,
        "schedule": a.schedule,
        "status": a.status.value,
        "contract_id": a.contract_id,
        "created_at": a.created_at,
    }


def _names(session: Session, ids: set[int]) -> dict[int, str]:
    rows = session.exec(select(Organization.id, Organization.name).where(col(Organization.id).in_(ids))).all()
    return {i or 0: n for i, n in rows}


def apply(
    db: Engine, actor: Actor, call_id: int, data: ApplicationCreate, org_id: int | None = None
) -> dict[str, Any]:
    """Submit an application (揭榜申请) for the actor's organisation (admins: for ``org_id``)."""
    actor.require(Role.ENTERPRISE, Role.INSTITUTION)
    with session_scope(db) as session:
        call = _load(session, call_id)
        if not _visible(actor, call):
            raise NotFoundError(f"榜单 {call_id} 不存在", code="not_found")
        if call.status != CallStatus.PUBLISHED:
            raise ConflictError("该榜单当前不接受申报", code="call_not_open")
        if call.application_deadline <= utc_now():
            raise ConflictError("申报截止时间已过", code="application_deadline_passed")
        lead = _applicant(session, actor, org_id)
        _check_eligible(session, call, lead, list(data.member_org_ids))
        exists = session.exec(
            select(CallApplication.id).where(
                CallApplication.call_id == call_id, CallApplication.applicant_org_id == lead.id
            )
        ).first()
        if exists is not None:
            raise ConflictError("本单位已申报该榜单", code="already_applied")
        application = CallApplication(
            call_id=call_id,
            applicant_org_id=lead.id or 0,
            member_org_ids=list(data.member_org_ids),
            proposal=data.proposal,
            team=[m.model_dump() for m in data.team],
            price=data.price,
            schedule=data.schedule,
            created_by=actor.user_id,
        )
        session.add(application)
        session.flush()
        audit.record(
            session,
            actor,
            "call_application",
            application.id or 0,
            "create",
            after=audit.snapshot(application),
        )
        return application_view(application, _names(session, {lead.id or 0, *data.member_org_ids}))


def list_applications(db: Engine, actor: Actor, call_id: int) -> list[dict[str, Any]]:
    """All applications for the owner and admins; one's own (as lead or consortium member) for others."""
    with Session(db) as session:
        call = _load(session, call_id)
        if not _visible(actor, call):
            raise NotFoundError(f"榜单 {call_id} 不存在", code="not_found")
        rows = list(
            session.exec(
                select(CallApplication)
                .where(CallApplication.call_id == call_id)
                .order_by(col(CallApplication.id))
            )
        )
        if not is_owner(actor, call):
            rows = [
                a
                for a in rows
                if actor.org_id is not None
                and (a.applicant_org_id == actor.org_id or actor.org_id in a.member_org_ids)
            ]
        names = _names(session, {o for a in rows for o in (a.applicant_org_id, *a.member_org_ids)})
        return [application_view(a, names) for a in rows]


def invite(db: Engine, actor: Actor, call_id: int, data: InvitationCreate) -> dict[str, Any]:
    """Record an invitation to a (recommended) solver (owner or admin); inviting twice is refused."""
    with session_scope(db) as session:
        call = _load(session, call_id)
        _require_owner(actor, call)
        if call.status not in (CallStatus.DRAFT, CallStatus.PUBLISHED):
            raise ConflictError("该榜单已不接受申报", code="call_not_open")
        if session.get(Organization, data.org_id) is None:
            raise NotFoundError(f"单位 {data.org_id} 不存在", code="not_found")
        if session.exec(
            select(CallInvitation.id).where(
                CallInvitation.call_id == call_id, CallInvitation.org_id == data.org_id
            )
        ).first():
            raise ConflictError("已邀请过该单位", code="already_invited")
        invitation = CallInvitation(
            call_id=call_id, org_id=data.org_id, message=data.message, invited_by=actor.user_id
        )
        session.add(invitation)
        session.flush()
        audit.record(
            session, actor, "call_invitation", invitation.id or 0, "create", after=audit.snapshot(invitation)
        )
        return {
            "id": invitation.id,
            "call_id": call_id,
            "org_id": data.org_id,
            "created_at": invitation.created_at,
        }


# -- award and delivery -------------------------------------------------------------------------------


def award_contract(
    session: Session, call: Call, application: CallApplication, signed_on: date, actor: Actor
) -> Contract:
    """The technology contract of one winning team: 技术开发 from the owner to the team (技术转让 from
    the owner to the enterprise under 揭榜转化), at the application's price, flagged as an open call."""
    posting = _posting(session, call)
    reverse = call.form == CallForm.CONVERSION
    buyer = application.applicant_org_id if reverse else call.owner_org_id
    seller = call.owner_org_id if reverse else application.applicant_org_id
    buyer_org = session.get(Organization, buyer)
    region = buyer_org.region_code if reverse and buyer_org else posting.region_code
    return Contract(
        contract_number=f"JBGS-{call.id:05d}-{application.id:05d}",
        contract_type=ContractType.TRANSFER if reverse else ContractType.DEVELOPMENT,
        title=posting.title[:200],
        buyer_org_id=buyer,
        seller_org_id=seller,
        field_code=posting.field_code,
        region_code=region,
        sub_center_code=sub_center_for(region),
        contract_amount=application.price,
        tech_transaction_amount=application.price,
        signed_on=signed_on,
        is_open_call=True,
        call_id=call.id,
        created_by=actor.user_id,
    )


def award(db: Engine, actor: Actor, call_id: int, data: AwardRequest) -> dict[str, Any]:
    """Award the call to one application (several, up to ``max_teams``, under 赛马制): the call goes
    closed → under review → awarded and each winner gets its technology contract."""
    with session_scope(db) as session:
        call = _load(session, call_id, for_update=True)
        _require_owner(actor, call)
        if call.status not in OPEN_FOR_AWARD:
            raise ConflictError(f"状态为 {call.status.value} 的榜单不能授榜", code="invalid_transition")
        if call.status == CallStatus.PUBLISHED and call.application_deadline > utc_now():
            raise ConflictError("申报尚未截止，不能授榜", code="applications_still_open")
        if len(data.application_ids) > call.max_teams:
            raise InvalidInputError(f"本榜单最多支持 {call.max_teams} 个团队", code="too_many_winners")
        applications = list(session.exec(select(CallApplication).where(CallApplication.call_id == call_id)))
        by_id = {a.id: a for a in applications}
        if any(i not in by_id for i in data.application_ids):
            raise NotFoundError("申报不属于该榜单", code="not_found")
        if any(by_id[i].status != ApplicationStatus.SUBMITTED for i in data.application_ids):
            raise ConflictError("只能授予已提交的申报", code="invalid_transition")
        if any(by_id[i].price > call.budget for i in data.application_ids):
            raise InvalidInputError("申报报价超过榜额", code="price_above_budget")
        _move(session, actor, call, CallStatus.AWARDED)
        contracts = []
        for application in applications:
            if application.id not in data.application_ids:
                application.status = ApplicationStatus.NOT_AWARDED
                session.add(application)
                continue
            contract = award_contract(session, call, application, data.signed_on, actor)
            if session.exec(
                select(Contract.id).where(Contract.contract_number == contract.contract_number)
            ).first():
                raise ConflictError(
                    f"合同编号 {contract.contract_number} 已存在", code="duplicate_contract_number"
                )
            session.add(contract)
            session.flush()
            application.status = ApplicationStatus.AWARDED
            application.contract_id = contract.id
            session.add(application)
            audit.record(
                session, actor, "contract", contract.id or 0, "create", after=audit.snapshot(contract)
            )
            contracts.append(contract.id)
        session.flush()
        return {**call_view(session, call), "contract_ids": contracts}


def _team(session: Session, call: Call, application_id: int | None) -> CallApplication:
    active = list(
        session.exec(
            select(CallApplication).where(
                CallApplication.call_id == call.id, CallApplication.status == ApplicationStatus.AWARDED
            )
        )
    )
    if application_id is None:
        if len(active) != 1:
            raise InvalidInputError("该榜单有多个团队，请指定 application_id", code="application_required")
        return active[0]
    found = next((a for a in active if a.id == application_id), None)
    if found is None:
        raise ConflictError("该申报未中榜或已被淘汰", code="invalid_transition")
    return found


def _decided(session: Session, call_id: int) -> dict[tuple[int, int], bool]:
    rows = session.exec(select(MilestoneAcceptance).where(MilestoneAcceptance.call_id == call_id)).all()
    return {(r.application_id, r.seq): r.passed for r in rows}


def _pay(session: Session, contract_id: int, amount: Decimal, paid_on: date) -> Payment:
    lock_row(session, Contract, contract_id)  # the same lock as `contracts.add_payment` takes
    contract = session.exec(select(Contract).where(Contract.id == contract_id)).one()
    if contract.status == ContractStatus.CANCELLED:
        raise ConflictError(f"合同 {contract_id} 已作废", code="contract_cancelled")
    if paid_on < contract.signed_on:
        raise InvalidInputError("付款日期不能早于合同签订日期", code="payment_before_signing")
    paid = session.exec(select(func.sum(Payment.amount)).where(Payment.contract_id == contract_id)).one()
    if Decimal(paid or 0) + amount > contract.contract_amount:
        raise InvalidInputError("累计付款将超过合同金额", code="payments_exceed_contract")
    payment = Payment(contract_id=contract_id, amount=amount, paid_on=paid_on)
    session.add(payment)
    session.flush()
    return payment


def accept_milestone(
    db: Engine, actor: Actor, call_id: int, seq: int, data: MilestoneVerdict
) -> dict[str, Any]:
    """Record the owner's verdict on milestone ``seq`` of one team; a pass pays the milestone's share."""
    with session_scope(db) as session:
        call = _load(session, call_id, for_update=True)
        _require_owner(actor, call)
        if call.status not in RUNNING:
            raise ConflictError(
                f"状态为 {call.status.value} 的榜单没有进行中的里程碑", code="invalid_transition"
            )
        milestones = _milestones(session, call_id)
        milestone = next((m for m in milestones if m.seq == seq), None)
        if milestone is None:
            raise NotFoundError(f"里程碑 {seq} 不存在", code="not_found")
        team = _team(session, call, data.application_id)
        decided = _decided(session, call_id)
        if (team.id or 0, seq) in decided:
            raise ConflictError(f"里程碑 {seq} 已验收", code="milestone_already_accepted")
        if any((team.id or 0, m.seq) not in decided for m in milestones if m.seq < seq):
            raise ConflictError("请按顺序验收里程碑", code="milestone_out_of_order")
        payment = None
        if data.passed:
            contract = session.get(Contract, team.contract_id)
            assert contract is not None
            share = (contract.contract_amount * milestone.payment_share).quantize(
                _CENT, rounding=ROUND_HALF_UP
            )
            amount = data.amount if data.amount is not None else share
            if amount <= 0:
                raise InvalidInputError("付款金额必须大于零", code="invalid_amount")
            payment = _pay(session, contract.id or 0, amount, data.paid_on)
            audit.record(session, actor, "payment", payment.id or 0, "create", after=audit.snapshot(payment))
        else:
            team.status = ApplicationStatus.ELIMINATED
            session.add(team)
        record = MilestoneAcceptance(
            call_id=call_id,
            seq=seq,
            application_id=team.id or 0,
            passed=data.passed,
            payment_id=payment.id if payment else None,
            accepted_on=data.paid_on,
            note=data.note,
            created_by=actor.user_id,
        )
        session.add(record)
        session.flush()
        audit.record(
            session,
            actor,
            "milestone",
            record.id or 0,
            "accept" if data.passed else "fail",
            after=audit.snapshot(record),
        )
        _advance(session, actor, call, milestones)
        return {
            "call_id": call_id,
            "seq": seq,
            "application_id": team.id,
            "passed": data.passed,
            "payment": None
            if payment is None
            else {
                "id": payment.id,
                "contract_id": payment.contract_id,
                "amount": payment.amount,
                "paid_on": payment.paid_on,
            },
            "call_status": call.status.value,
        }


def _advance(session: Session, actor: Actor, call: Call, milestones: list[CallMilestone]) -> None:
    """Awarded → in progress on the first verdict; completed when every remaining team passed every
    milestone; failed when no team remains."""
    if call.status == CallStatus.AWARDED:
        _move(session, actor, call, CallStatus.IN_PROGRESS)
    teams = session.exec(
        select(CallApplication.id).where(
            CallApplication.call_id == call.id, CallApplication.status == ApplicationStatus.AWARDED
        )
    ).all()
    decided = _decided(session, call.id or 0)
    if not teams:
        _move(session, actor, call, CallStatus.FAILED)
    elif all(decided.get((t or 0, m.seq)) for t in teams for m in milestones):
        _move(session, actor, call, CallStatus.COMPLETED)
