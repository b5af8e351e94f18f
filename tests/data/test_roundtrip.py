"""Every entity survives a write and a read on both databases: Decimal money to the fen, aware times,
JSON lists, Chinese text, enum values."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, SQLModel, col, select

from models import (
    Achievement,
    AchievementKind,
    ApiKey,
    ApplicationStatus,
    AuditEvent,
    Broker,
    BrokerTraining,
    Call,
    CallApplication,
    CallForm,
    CallInvitation,
    CallMilestone,
    CallStatus,
    Contract,
    ContractSubtype,
    ContractType,
    EmbeddingCache,
    ImportRecord,
    InfluentialFlag,
    InstitutionKind,
    InstitutionOrigin,
    IPType,
    Job,
    Match,
    MatchStatus,
    Maturity,
    Membership,
    MembershipStatus,
    MemberTier,
    Message,
    MilestoneAcceptance,
    Need,
    NeedKind,
    Organization,
    OrgKind,
    Payment,
    PaymentMethod,
    PilotAgreement,
    PolicyBase,
    PolicyPer,
    PolicyRule,
    PostingChange,
    Recognition,
    Registration,
    RegistrationConclusion,
    Role,
    SceneCategory,
    SceneSolution,
    Target,
    TargetMetric,
    TransferInstitution,
    User,
    Visibility,
)

WHEN = datetime(2025, 6, 1, 8, 30, tzinfo=UTC)


def _store(engine: Engine, row: SQLModel) -> SQLModel:
    with Session(engine) as session:
        session.add(row)
        session.commit()
        session.refresh(row)
        key = row.model_dump(include={"id", "content_hash", "encoder"})
    with Session(engine) as session:
        pk = key.get("id") or (key["content_hash"], key["encoder"])
        loaded = session.get(type(row), pk)
        assert loaded is not None
        return loaded


def _seed(engine: Engine) -> dict[str, int]:
    with Session(engine) as s:
        ent = Organization(
            name="郑州盾构装备有限公司",
            kind=OrgKind.ENTERPRISE,
            uscc="91350100M000100Y43",
            region_code="410100",
        )
        uni = Organization(
            name="郑州大学", kind=OrgKind.UNIVERSITY, uscc="12100000400010398P", region_code="410100"
        )
        s.add_all([ent, uni])
        s.flush()
        user = User(
            username="zhang", display_name="张三", role=Role.BROKER, org_id=ent.id or 0, password_hash="x"
        )
        s.add(user)
        s.flush()
        broker = Broker(
            user_id=user.id or 0, org_id=ent.id or 0, field_codes=["F02"], region_codes=["410100"], capacity=5
        )
        need = Need(
            org_id=ent.id or 0,
            title="刀盘磨损",
            description="换刀频繁。",
            field_code="F02",
            region_code="410100",
            budget_min=Decimal("100000.00"),
            budget_max=Decimal("500000.55"),
            modes=["转让"],
        )
        ach = Achievement(
            org_id=uni.id or 0,
            title="高耐磨滚刀",
            abstract="硬质合金。",
            field_code="F03",
            region_code="410100",
            maturity=Maturity.PILOT,
            ip_type=IPType.INVENTION_PATENT,
            asking_price=Decimal("300000.10"),
        )
        s.add_all([broker, need, ach])
        s.commit()
        return {
            "ent": ent.id or 0,
            "uni": uni.id or 0,
            "user": user.id or 0,
            "broker": broker.id or 0,
            "need": need.id or 0,
            "ach": ach.id or 0,
        }


def test_every_table_has_a_roundtrip_below() -> None:
    tested = {
        "organizations",
        "users",
        "api_keys",
        "brokers",
        "needs",
        "achievements",
        "matches",
        "messages",
        "contracts",
        "payments",
        "registrations",
        "targets",
        "policy_rules",
        "audit_events",
        "import_records",
        "embedding_cache",
        "broker_trainings",
        "memberships",
        "transfer_institutions",
        "influential_flags",
        "calls",
        "call_milestones",
        "call_applications",
        "milestone_acceptances",
        "call_invitations",
        "scene_solutions",
        "pilot_agreements",
        "posting_changes",
        "jobs",
    }
    assert set(SQLModel.metadata.tables) == tested


def test_registries_roundtrip(engine: Engine) -> None:
    ids = _seed(engine)
    training = _store(
        engine,
        BrokerTraining(
            broker_id=ids["broker"], course="技术合同认定登记实务", hours=8, completed_on=date(2025, 3, 1)
        ),
    )
    assert isinstance(training, BrokerTraining) and (training.course, training.hours) == (
        "技术合同认定登记实务",
        8,
    )
    member = _store(
        engine,
        Membership(
            org_id=ids["ent"],
            tier=MemberTier.COUNCIL,
            status=MembershipStatus.APPROVED,
            applied_on=date(2025, 1, 2),
            term_start=date(2025, 2, 1),
            term_end=date(2028, 1, 31),
        ),
    )
    assert (
        isinstance(member, Membership)
        and member.tier == MemberTier.COUNCIL
        and member.term_end == date(2028, 1, 31)
    )
    inst = _store(
        engine,
        TransferInstitution(
            org_id=ids["uni"],
            kind=InstitutionKind.UNIVERSITY_OFFICE,
            origin=InstitutionOrigin.CULTIVATED,
            since=date(2019, 5, 1),
            recognition=Recognition.PROVINCIAL,
            recognized_year=2021,
        ),
    )
    assert isinstance(inst, TransferInstitution) and inst.recognition == Recognition.PROVINCIAL
    flag = _store(
        engine, InfluentialFlag(achievement_id=ids["ach"], reason="首台套推广", flagged_by=ids["user"])
    )
    assert (
        isinstance(flag, InfluentialFlag)
        and flag.reason == "首台套推广"
        and flag.created_at.tzinfo is not None
    )


def test_parties_roundtrip(engine: Engine) -> None:
    ids = _seed(engine)
    with Session(engine) as s:
        org = s.get(Organization, ids["ent"])
        assert org is not None and org.kind == OrgKind.ENTERPRISE and org.name == "郑州盾构装备有限公司"
        broker = s.get(Broker, ids["broker"])
        assert broker is not None and broker.field_codes == ["F02"] and broker.capacity == 5
        assert broker.created_at.tzinfo is not None
    key = _store(
        engine,
        ApiKey(
            org_id=ids["ent"],
            name="ERP",
            prefix="tm_abc",
            key_hash="h",
            role=Role.ENTERPRISE,
            created_by=ids["user"],
            revoked_at=WHEN,
        ),
    )
    assert isinstance(key, ApiKey) and key.revoked_at == WHEN


def test_postings_and_match_roundtrip(engine: Engine) -> None:
    ids = _seed(engine)
    with Session(engine) as s:
        need = s.get(Need, ids["need"])
        ach = s.get(Achievement, ids["ach"])
        assert need is not None and need.budget_max == Decimal("500000.55") and need.modes == ["转让"]
        assert ach is not None and ach.maturity == Maturity.PILOT and ach.asking_price == Decimal("300000.10")
        assert need.visibility == Visibility.PUBLIC
    match = _store(
        engine,
        Match(
            need_id=ids["need"],
            achievement_id=ids["ach"],
            score=0.83,
            rank=1,
            components={"dense": 0.7, "lexical": 0.4},
            explanation={"shared_terms": ["耐磨"]},
            engine_version="hashing@x",
            broker_id=ids["broker"],
            status=MatchStatus.ASSIGNED,
        ),
    )
    assert (
        isinstance(match, Match) and match.components["dense"] == 0.7 and match.status == MatchStatus.ASSIGNED
    )
    message = _store(engine, Message(match_id=match.id or 0, author_id=ids["user"], body="约个时间洽谈"))
    assert isinstance(message, Message) and message.body == "约个时间洽谈"
    with pytest.raises(IntegrityError), Session(engine) as s:
        s.add(Match(need_id=ids["need"], achievement_id=ids["ach"], score=0.1, rank=2, engine_version="v"))
        s.commit()


def test_ledger_roundtrip(engine: Engine) -> None:
    ids = _seed(engine)
    contract = _store(
        engine,
        Contract(
            contract_number="HT-2025-001",
            contract_type=ContractType.TRANSFER,
            buyer_org_id=ids["ent"],
            seller_org_id=ids["uni"],
            field_code="F02",
            region_code="410100",
            title="滚刀材料转让",
            contract_amount=Decimal("10000000.00"),
            tech_transaction_amount=Decimal("9000000.01"),
            signed_on=date(2025, 3, 1),
            is_open_call=True,
        ),
    )
    assert isinstance(contract, Contract) and contract.tech_transaction_amount == Decimal("9000000.01")
    assert contract.contract_type == ContractType.TRANSFER
    payment = _store(
        engine, Payment(contract_id=contract.id or 0, amount=Decimal("0.01"), paid_on=date(2025, 4, 1))
    )
    assert isinstance(payment, Payment) and payment.amount == Decimal("0.01")
    reg = _store(
        engine,
        Registration(
            contract_id=contract.id or 0,
            registrar_org_id=ids["uni"],
            registered_amount=Decimal("9999999.99"),
            tech_income=Decimal("8999999.99"),
            registration_number="2025410100000001",
            registered_on=date(2025, 4, 2),
            subtype=ContractSubtype.PATENT_TRANSFER,
            ip_type=IPType.INVENTION_PATENT,
            term_start=date(2025, 3, 1),
            term_end=date(2027, 2, 28),
            payment_method=PaymentMethod.INSTALMENTS,
        ),
    )
    assert isinstance(reg, Registration) and reg.registered_amount == Decimal("9999999.99")
    assert reg.tech_income == Decimal("8999999.99") and reg.conclusion == RegistrationConclusion.REGISTERED
    assert (reg.subtype, reg.ip_type, reg.payment_method) == ("专利权转让", "发明专利", "分期支付")


def test_policy_and_audit_roundtrip(engine: Engine) -> None:
    ids = _seed(engine)
    target = _store(
        engine,
        Target(
            code="zz-2024",
            name="郑州技术合同成交额",
            scope="city",
            region_code="410100",
            metric=TargetMetric.CONTRACT_TURNOVER,
            period_start=date(2024, 1, 1),
            period_end=date(2024, 12, 31),
            value=Decimal("80000000000.00"),
            source="002:L11",
        ),
    )
    assert isinstance(target, Target) and target.value == Decimal("80000000000.00")
    rule = _store(
        engine,
        PolicyRule(
            code="M3",
            name="登记机构补助",
            rate=Decimal("0.0002"),
            base=PolicyBase.REGISTERED_TURNOVER,
            cap=Decimal("500000.00"),
            per=PolicyPer.REGISTRAR,
            period="year",
            source="002:L40",
        ),
    )
    assert isinstance(rule, PolicyRule) and rule.rate == Decimal("0.0002") and rule.per == PolicyPer.REGISTRAR
    event = _store(
        engine,
        AuditEvent(
            actor_id=ids["user"],
            entity="match",
            entity_id=1,
            action="accept",
            at=WHEN,
            before={"status": "assigned"},
            after={"status": "accepted"},
        ),
    )
    assert isinstance(event, AuditEvent) and event.at == WHEN and event.after == {"status": "accepted"}
    record = _store(
        engine, ImportRecord(org_id=ids["ent"], idempotency_key="k1", kind="needs", result={"created": 3})
    )
    assert isinstance(record, ImportRecord) and record.result == {"created": 3}
    cached = _store(
        engine, EmbeddingCache(content_hash="a" * 64, encoder="hashing", dim=2, vector=b"\x00\x01")
    )
    assert isinstance(cached, EmbeddingCache) and cached.vector == b"\x00\x01"


def test_scale_out_tables_roundtrip(engine: Engine) -> None:
    """A posting write appends to the change feed in its own transaction; a job keeps its JSON."""
    ids = _seed(engine)
    with Session(engine) as s:
        changes = s.exec(select(PostingChange).order_by(col(PostingChange.seq))).all()
        assert {(c.side, c.posting_id) for c in changes} >= {
            ("need", ids["need"]),
            ("achievement", ids["ach"]),
        }
        assert all(c.created_at.tzinfo is not None for c in changes)
        assert [c.seq for c in changes] == sorted({c.seq or 0 for c in changes})
        job = Job(kind="matching", params={"k": 5, "名称": "撮合"}, checkpoint={"needs_done": 50})
        s.add(job)
        s.commit()
        s.refresh(job)
    with Session(engine) as s:
        stored = s.get(Job, job.id)
        assert stored is not None and stored.params == {"k": 5, "名称": "撮合"}
        assert stored.checkpoint == {"needs_done": 50} and stored.status == "queued" and stored.result is None
        assert stored.created_at.tzinfo is not None


def test_naive_datetime_refused(engine: Engine) -> None:
    ids = _seed(engine)
    with pytest.raises(Exception, match="naive datetime"), Session(engine) as s:
        s.add(AuditEvent(entity="need", entity_id=ids["need"], action="x", at=datetime(2025, 1, 1)))
        s.commit()


def test_foreign_keys_enforced(engine: Engine) -> None:
    with pytest.raises(IntegrityError), Session(engine) as s:
        s.add(Need(org_id=999, title="t", description="d", field_code="F01", region_code="410100"))
        s.commit()
    with Session(engine) as s:
        assert s.exec(select(Need)).all() == []


def test_calls_and_scenes_roundtrip(engine: Engine) -> None:
    ids = _seed(engine)
    call = _store(
        engine,
        Call(
            form=CallForm.HORSE_RACE,
            owner_org_id=ids["ent"],
            need_id=ids["need"],
            indicators=[{"name": "寿命", "target": "≥ 2 倍", "unit": ""}],
            budget=Decimal("5000000.01"),
            application_deadline=WHEN,
            delivery_months=18,
            max_teams=2,
            eligibility={"org_kinds": ["university"], "region_scope": "410000", "consortium": False},
            status=CallStatus.UNDER_REVIEW,
        ),
    )
    assert (
        isinstance(call, Call) and call.budget == Decimal("5000000.01") and call.application_deadline == WHEN
    )
    assert call.form == CallForm.HORSE_RACE and call.eligibility["org_kinds"] == ["university"]
    cid = call.id or 0
    milestone = _store(
        engine,
        CallMilestone(
            call_id=cid,
            seq=1,
            deliverable="样刀",
            acceptance_criterion="达标",
            payment_share=Decimal("0.3333"),
            due_months=6,
        ),
    )
    assert isinstance(milestone, CallMilestone) and milestone.payment_share == Decimal("0.3333")
    application = _store(
        engine,
        CallApplication(
            call_id=cid,
            applicant_org_id=ids["uni"],
            member_org_ids=[ids["ent"]],
            proposal="方案",
            team=[{"name": "张三"}],
            price=Decimal("4999999.99"),
            schedule="18 个月",
            status=ApplicationStatus.ELIMINATED,
        ),
    )
    assert isinstance(application, CallApplication) and application.price == Decimal("4999999.99")
    assert application.member_org_ids == [ids["ent"]] and application.status == ApplicationStatus.ELIMINATED
    verdict = _store(
        engine,
        MilestoneAcceptance(
            call_id=cid, seq=1, application_id=application.id or 0, passed=False, accepted_on=date(2026, 4, 1)
        ),
    )
    assert isinstance(verdict, MilestoneAcceptance) and verdict.passed is False
    invitation = _store(engine, CallInvitation(call_id=cid, org_id=ids["uni"], message="诚邀揭榜"))
    assert isinstance(invitation, CallInvitation) and invitation.message == "诚邀揭榜"
    with Session(engine) as s:
        scene = Need(
            org_id=ids["ent"],
            kind=NeedKind.SCENE,
            category=SceneCategory.QUANTUM,
            title="量子通信场景",
            description="开放节点。",
            field_code="F16",
            region_code="410100",
        )
        solution = Achievement(
            org_id=ids["uni"],
            kind=AchievementKind.SOLUTION,
            category=SceneCategory.QUANTUM,
            title="量子密钥分发方案",
            abstract="兼容国密。",
            field_code="F16",
            region_code="410100",
        )
        s.add_all([scene, solution])
        s.commit()
        scene_id, solution_id = scene.id or 0, solution.id or 0
    link = _store(engine, SceneSolution(scene_id=scene_id, achievement_id=solution_id))
    assert isinstance(link, SceneSolution)
    pilot = _store(
        engine,
        PilotAgreement(
            scene_id=scene_id,
            owner_org_id=ids["ent"],
            provider_org_id=ids["uni"],
            solution_id=solution_id,
            title="试点",
            investment=Decimal("25000000.00"),
            signed_on=date(2026, 5, 1),
        ),
    )
    assert isinstance(pilot, PilotAgreement) and pilot.investment == Decimal("25000000.00")
    with Session(engine) as s:
        loaded = s.get(Need, scene_id)
        assert loaded is not None and (loaded.kind, loaded.category) == (
            NeedKind.SCENE,
            SceneCategory.QUANTUM,
        )
