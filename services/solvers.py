"""Solver recommendation for a 揭榜挂帅 call: organisations, ranked by aggregating the engine's matches
of their postings to the call's posting, plus their past contracts in the call's field.

A need-based call asks the engine for achievements (科技成果 and 方案) and credits their holders; a
揭榜转化 call asks for needs (including scenes) and credits the enterprises that posted them. Confidential
postings never count (their owner is confidential), nor does the call owner itself.

Aggregation (`aggregate_scores`): an organisation's score is the sum of its best ``TOP_N`` posting scores
weighted 1, ½, ¼ (several good matches beat one; the engine's fused scores are z-scores, so extra
matches below zero are left out rather than subtracted), plus ``CONTRACT_BONUS`` for each of up to three past
contracts in the field. ``best_single`` is the baseline the evaluation compares against
(`evaluation/call_solvers.py`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from matcher.filters import PostingFilter
from models import (
    Achievement,
    Call,
    CallApplication,
    CallForm,
    CallInvitation,
    Contract,
    ContractStatus,
    Need,
    Organization,
    Role,
    Visibility,
)
from services.actor import Actor
from services.calls import is_owner
from services.errors import NotFoundError, PermissionDeniedError
from services.index import IndexService, to_posting

TOP_N = 3
DECAY = 0.5
CONTRACT_BONUS = 0.05
CANDIDATES = 60


@dataclass(frozen=True)
class Hit:
    """One matched posting of a candidate organisation."""

    org_id: int
    posting_id: int
    score: float


@dataclass
class OrgScore:
    org_id: int
    score: float
    best: float
    hits: list[Hit] = field(default_factory=list)
    past_contracts: int = 0


def aggregate_scores(hits: Sequence[Hit], past_contracts: dict[int, int] | None = None) -> list[OrgScore]:
    """Organisations ranked by ``Σ score_i · DECAY^i`` over their best TOP_N hits + the contract bonus."""
    past_contracts = past_contracts or {}
    by_org: dict[int, list[Hit]] = {}
    for hit in hits:
        by_org.setdefault(hit.org_id, []).append(hit)
    ranked = []
    for org_id, group in by_org.items():
        group.sort(key=lambda h: -h.score)
        top = group[:1] + [h for h in group[1:TOP_N] if h.score > 0]  # a weak extra match never costs
        n = past_contracts.get(org_id, 0)
        score = sum(h.score * DECAY**i for i, h in enumerate(top)) + CONTRACT_BONUS * min(n, 3)
        ranked.append(OrgScore(org_id, score, top[0].score, top, n))
    ranked.sort(key=lambda o: (-o.score, o.org_id))
    return ranked


def best_single(hits: Sequence[Hit], past_contracts: dict[int, int] | None = None) -> list[OrgScore]:
    """Baseline: organisations ranked by their single best posting."""
    ranked = aggregate_scores(hits)
    for o in ranked:
        o.score = o.best
    ranked.sort(key=lambda o: (-o.score, o.org_id))
    return ranked


Ranker = Callable[[Sequence[Hit], dict[int, int] | None], list[OrgScore]]


def candidate_hits(
    session: Session, index: IndexService, row: Need | Achievement, k: int = CANDIDATES
) -> tuple[list[Hit], dict[int, Need | Achievement], dict[int, Any]]:
    """The engine's public counterparts of ``row`` (solvers develop to order, so price, maturity and
    cooperation-mode filters are lifted), as hits per organisation, the rows, and the explanations."""
    posting = to_posting(row)
    if isinstance(row, Need):
        hard = PostingFilter.for_counterparts(posting, max_price=None, min_maturity=None, modes=None)
    else:
        hard = PostingFilter.for_counterparts(
            posting, min_budget=None, max_required_maturity=None, modes=None
        )
    suggestions = index.suggest(row, k, hard)
    ids = [s.id for s in suggestions]
    found_rows: list[Need | Achievement] = []
    if isinstance(row, Need):
        found_rows.extend(session.exec(select(Achievement).where(col(Achievement.id).in_(ids))).all())
    else:
        found_rows.extend(session.exec(select(Need).where(col(Need.id).in_(ids))).all())
    rows = {r.id or 0: r for r in found_rows}
    hits, explanations = [], {}
    for s in suggestions:
        found = rows.get(s.id)
        if found is None or found.visibility != Visibility.PUBLIC or found.org_id == row.org_id:
            continue
        hits.append(Hit(found.org_id, s.id, s.score))
        explanations[s.id] = s.explanation.to_dict()
    return hits, rows, explanations


def past_contracts_in_field(session: Session, field_code: str, *, as_seller: bool) -> dict[int, int]:
    """Live contracts per organisation (seller or buyer side) in the field's top level."""
    side = Contract.seller_org_id if as_seller else Contract.buyer_org_id
    rows = session.exec(
        select(side).where(
            col(Contract.field_code).startswith(field_code.split(".")[0]),
            Contract.status != ContractStatus.CANCELLED,
        )
    ).all()
    counts: dict[int, int] = {}
    for org_id in rows:
        counts[org_id] = counts.get(org_id, 0) + 1
    return counts


def recommend_solvers(
    db: Engine, index: IndexService, actor: Actor, call_id: int, *, k: int = 10
) -> list[dict[str, Any]]:
    """Ranked organisations for a call, each with the postings that justify it (owner, brokers, admins)."""
    with Session(db) as session:
        call = session.get(Call, call_id)
        if call is None:
            raise NotFoundError(f"榜单 {call_id} 不存在", code="not_found")
        if not (is_owner(actor, call) or actor.role == Role.BROKER):
            raise PermissionDeniedError("只有发榜单位、经纪人和管理员可以查看推荐揭榜方")
        row = (
            session.get(Need, call.need_id)
            if call.need_id is not None
            else session.get(Achievement, call.achievement_id)
        )
        assert row is not None
        hits, rows, explanations = candidate_hits(session, index, row)
        reverse = call.form == CallForm.CONVERSION
        past = past_contracts_in_field(session, row.field_code, as_seller=not reverse)
        ranked = [o for o in aggregate_scores(hits, past) if o.org_id != call.owner_org_id][:k]
        orgs = {
            o.id or 0: o
            for o in session.exec(
                select(Organization).where(col(Organization.id).in_([r.org_id for r in ranked]))
            )
        }
        invited = set(
            session.exec(select(CallInvitation.org_id).where(CallInvitation.call_id == call_id)).all()
        )
        applied = set(
            session.exec(
                select(CallApplication.applicant_org_id).where(CallApplication.call_id == call_id)
            ).all()
        )
        return [
            {
                "rank": rank,
                "org_id": o.org_id,
                "org_name": orgs[o.org_id].name,
                "org_kind": orgs[o.org_id].kind.value,
                "region_code": orgs[o.org_id].region_code,
                "score": round(o.score, 4),
                "best_score": round(o.best, 4),
                "past_contracts": o.past_contracts,
                "invited": o.org_id in invited,
                "applied": o.org_id in applied,
                "justification": [
                    {
                        "side": "need" if reverse else "achievement",
                        "posting_id": h.posting_id,
                        "kind": rows[h.posting_id].kind.value,
                        "title": rows[h.posting_id].title,
                        "score": round(h.score, 4),
                        "explanation": explanations[h.posting_id],
                    }
                    for h in o.hits
                ],
            }
            for rank, o in enumerate(ranked, start=1)
        ]
