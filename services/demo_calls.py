"""Loads the demo 揭榜挂帅 calls and 场景 scenes (data/demo/calls.jsonl, scenes.jsonl) into the caller's
transaction: calls over demo postings with their applications, award contracts, milestone verdicts and
payments; scenes as needs of kind 场景 with their solutions (achievements of kind 方案) and pilots.
States are demo history, written as they stand (the services' transitions govern live changes)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlmodel import Session

from data.demo import read_demo
from models import (
    Achievement,
    AchievementKind,
    ApplicationStatus,
    Call,
    CallApplication,
    CallForm,
    CallMilestone,
    CallStatus,
    MilestoneAcceptance,
    Need,
    NeedKind,
    Payment,
    PilotAgreement,
    SceneCategory,
    SceneSolution,
)
from services.actor import SYSTEM
from services.calls import award_contract

__all__ = ["load_calls_and_scenes"]


def _day(text: str) -> datetime:
    d = date.fromisoformat(text)
    return datetime(d.year, d.month, d.day, 9, tzinfo=UTC)


def load_calls_and_scenes(
    session: Session, orgs: dict[str, int], needs: dict[str, int], achievements: dict[str, int]
) -> tuple[int, int]:
    """Insert every demo call and scene; returns (calls, scenes)."""
    calls = read_demo("calls")
    for record in calls:
        _load_call(session, record, orgs, needs, achievements)
    scenes = read_demo("scenes")
    for record in scenes:
        _load_scene(session, record, orgs)
    return len(calls), len(scenes)


def _load_call(
    session: Session,
    r: dict[str, Any],
    orgs: dict[str, int],
    needs: dict[str, int],
    achievements: dict[str, int],
) -> None:
    published = _day(r["published_on"])
    call = Call(
        form=CallForm(r["form"]),
        owner_org_id=orgs[r["owner_org_external_id"]],
        need_id=needs[r["need_external_id"]] if r["need_external_id"] else None,
        achievement_id=achievements[r["achievement_external_id"]] if r["achievement_external_id"] else None,
        indicators=r["indicators"],
        budget=Decimal(r["budget"]),
        application_deadline=datetime.fromisoformat(r["application_deadline"]),
        delivery_months=r["delivery_months"],
        max_teams=r["max_teams"],
        eligibility=r["eligibility"],
        status=CallStatus(r["status"]),
        published_at=published,
        created_at=published,
        updated_at=published,
    )
    session.add(call)
    session.flush()
    for seq, m in enumerate(r["milestones"], start=1):
        session.add(
            CallMilestone(
                call_id=call.id or 0, seq=seq, **{**m, "payment_share": Decimal(m["payment_share"])}
            )
        )
    contracts: dict[str, tuple[int, int]] = {}
    for a in r["applications"]:
        application = CallApplication(
            call_id=call.id or 0,
            applicant_org_id=orgs[a["org_external_id"]],
            member_org_ids=[orgs[m] for m in a["member_org_external_ids"]],
            proposal=a["proposal"],
            team=a["team"],
            price=Decimal(a["price"]),
            schedule=a["schedule"],
            status=ApplicationStatus(a["status"]),
            created_at=published,
        )
        session.add(application)
        session.flush()
        if a["contract_number"]:
            contract = award_contract(session, call, application, date.fromisoformat(r["signed_on"]), SYSTEM)
            contract.contract_number = a["contract_number"]
            session.add(contract)
            session.flush()
            application.contract_id = contract.id
            session.add(application)
            contracts[a["contract_number"]] = (contract.id or 0, application.id or 0)
    for v in r["acceptances"]:
        contract_id, application_id = contracts[v["contract_number"]]
        payment = None
        if v["passed"]:
            payment = Payment(
                contract_id=contract_id, amount=Decimal(v["amount"]), paid_on=date.fromisoformat(v["on"])
            )
            session.add(payment)
            session.flush()
        session.add(
            MilestoneAcceptance(
                call_id=call.id or 0,
                seq=v["seq"],
                application_id=application_id,
                passed=v["passed"],
                payment_id=payment.id if payment else None,
                accepted_on=date.fromisoformat(v["on"]),
            )
        )


def _load_scene(session: Session, r: dict[str, Any], orgs: dict[str, int]) -> None:
    when = _day(r["published_on"])
    category = SceneCategory(r["category"])
    scene = Need(
        org_id=orgs[r["org_external_id"]],
        kind=NeedKind.SCENE,
        category=category,
        external_id=r["external_id"],
        title=r["title"],
        description=r["description"],
        field_code=r["field_code"],
        keywords=r["keywords"],
        region_code=r["region_code"],
        modes=[],
        created_at=when,
        updated_at=when,
    )
    session.add(scene)
    session.flush()
    solutions: dict[str, Achievement] = {}
    for s in r["solutions"]:
        solution = Achievement(
            org_id=orgs[s["org_external_id"]],
            kind=AchievementKind.SOLUTION,
            category=category,
            external_id=s["external_id"],
            title=s["title"],
            abstract=s["abstract"],
            field_code=s["field_code"],
            keywords=s["keywords"],
            region_code=r["region_code"],
            maturity=s["maturity"],
            modes=[],
            created_at=when,
            updated_at=when,
        )
        session.add(solution)
        session.flush()
        session.add(SceneSolution(scene_id=scene.id or 0, achievement_id=solution.id or 0, created_at=when))
        solutions[s["external_id"]] = solution
    for p in r["pilots"]:
        session.add(
            PilotAgreement(
                scene_id=scene.id or 0,
                owner_org_id=scene.org_id,
                provider_org_id=orgs[p["provider_org_external_id"]],
                solution_id=solutions[p["solution_external_id"]].id,
                title=p["title"],
                investment=Decimal(p["investment"]),
                signed_on=date.fromisoformat(p["signed_on"]),
            )
        )
