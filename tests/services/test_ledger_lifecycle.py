"""Posting lifecycle follows the ledger: a signed contract marks its need and achievement contracted
(已签约) in the database and in the engine's index; suggestions keep showing them, flagged; the
postings' other matches stay as they were; cancelling the last live contract opens them again."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from sqlmodel import Session, col, select

from matcher.postings import Side
from models import Achievement, AuditEvent, Match, MatchStatus, Need, PostingStatus
from models.schemas import AchievementCreate, ContractCreate, NeedCreate
from services import contracts, postings, review
from services.errors import ConflictError
from services.index import IndexService
from services.matching import run_matching
from services.suggestions import suggest_for
from tests.services.conftest import World

NEED = (
    "盾构机滚刀磨损快需要耐磨材料",
    "盾构施工中滚刀磨损严重，换刀频繁，需要高耐磨滚刀材料，延长刀具寿命。",
)
OTHER_NEED = ("隧道掘进刀具寿命短", "隧道掘进机滚刀磨损快，寻求耐磨硬质合金刀具材料，减少换刀次数。")
ACH = (
    "高耐磨硬质合金盾构滚刀材料",
    "一种用于盾构滚刀的硬质合金材料，耐磨性提高一倍，换刀次数减少，刀具寿命延长。",
)
OTHER_ACH = ("盾构滚刀表面激光熔覆耐磨涂层", "滚刀刀圈表面激光熔覆耐磨涂层，磨损量降低一半，刀具寿命延长。")


def _status(world: World, model: type[Need] | type[Achievement], posting_id: int) -> str:
    with Session(world.engine) as s:
        status = s.exec(select(model.status).where(model.id == posting_id)).one()
        return str(status)


def _indexed_status(index: IndexService, side: Side, posting_id: int) -> str:
    return index.engine.collection(side).postings[posting_id].status


def _accepted_match(world: World, need_id: int, ach_id: int) -> int:
    """The stored suggestion of the pair, accepted by broker b1 (review itself is tested elsewhere)."""
    with Session(world.engine) as s:
        match = s.exec(select(Match).where(Match.need_id == need_id, Match.achievement_id == ach_id)).one()
        match.status, match.broker_id = MatchStatus.ACCEPTED, world.broker["b1"]
        s.add(match)
        s.commit()
        return match.id or 0


def _contract(world: World, index: IndexService, match_id: int, number: str) -> int:
    data = ContractCreate(
        contract_number=number,
        contract_type="技术转让",
        title="滚刀材料技术转让",
        match_id=match_id,
        contract_amount=Decimal("1000000.00"),
        tech_transaction_amount=Decimal("900000.00"),
        signed_on=date(2025, 3, 1),
    )
    return int(contracts.create_contract(world.engine, world.actor["b1"], data, index=index)["id"])


def _suggested(world: World, index: IndexService, need_id: int) -> dict[int, dict[str, Any]]:
    rows = suggest_for(world.engine, index, world.actor["ent2"], Need, need_id, k=5)
    return {r["posting"]["id"]: r for r in rows}


def _post(world: World, index: IndexService, enterprise: str, need: tuple[str, str], institution: str,
          achievement: tuple[str, str]) -> tuple[int, int]:  # fmt: skip
    """A need and an achievement in field F02, indexed; returns their ids."""
    n = postings.create_need(
        world.engine,
        index,
        world.actor[enterprise],
        NeedCreate(title=need[0], description=need[1], field_code="F02"),
    )
    a = postings.create_achievement(
        world.engine, index, world.actor[institution],
        AchievementCreate(title=achievement[0], abstract=achievement[1], field_code="F02"),
    )  # fmt: skip
    return int(n["id"]), int(a["id"])


def test_contract_moves_postings_and_index_and_cancel_moves_them_back(
    world: World, index: IndexService
) -> None:
    e, u = world.engine, world.actor
    need_id, ach_id = _post(world, index, "ent", NEED, "uni", ACH)
    other_need_id, other_ach_id = _post(world, index, "ent2", OTHER_NEED, "uni2", OTHER_ACH)
    run_matching(e, index, u["admin"], k=3)
    first = _contract(world, index, _accepted_match(world, need_id, ach_id), "HT-L1")

    for model, side, pid in ((Need, Side.NEED, need_id), (Achievement, Side.ACHIEVEMENT, ach_id)):
        assert _status(world, model, pid) == "contracted"
        assert _indexed_status(index, side, pid) == "contracted"
    assert _status(world, Achievement, other_ach_id) == "open"

    # suggestions of another need still show the contracted achievement, marked as such
    shown = _suggested(world, index, other_need_id)
    assert shown[ach_id]["posting"]["status"] == "contracted"
    assert "contracted" in shown[ach_id]["explanation"]["flags"]
    assert "contracted" not in shown[other_ach_id]["explanation"]["flags"]

    # the postings' other matches stay as they were, and the queue shows the postings contracted
    with Session(e) as s:
        others = s.exec(
            select(Match).where(col(Match.need_id) == need_id, col(Match.achievement_id) != ach_id)
        ).all()
    assert others and all(m.status == MatchStatus.SUGGESTED for m in others)
    queue = {r["id"]: r for r in review.broker_queue(e, u["admin"], status=MatchStatus.SUGGESTED)}
    assert {m.id for m in others} <= set(queue)
    assert all(queue[m.id]["need_status"] == "contracted" for m in others)

    # owners may not mark or unmark contracted themselves
    with pytest.raises(ConflictError) as manual:
        postings.set_status(e, index, u["ent"], Need, need_id, PostingStatus.OPEN)
    assert manual.value.code == "ledger_status"
    with pytest.raises(ConflictError):
        postings.set_status(e, index, u["uni2"], Achievement, other_ach_id, PostingStatus.CONTRACTED)

    # a second contract of the same need, with the other achievement
    second = _contract(world, index, _accepted_match(world, need_id, other_ach_id), "HT-L2")
    assert _status(world, Achievement, other_ach_id) == "contracted"

    contracts.cancel_contract(e, u["admin"], first, "双方协商解除", index=index)
    assert _status(world, Need, need_id) == "contracted"  # the second contract still holds it
    assert _status(world, Achievement, ach_id) == "open"
    assert _indexed_status(index, Side.ACHIEVEMENT, ach_id) == "open"
    assert "contracted" not in _suggested(world, index, other_need_id)[ach_id]["explanation"]["flags"]

    contracts.cancel_contract(e, u["admin"], second, "双方协商解除", index=index)
    for model, side, pid in ((Need, Side.NEED, need_id), (Achievement, Side.ACHIEVEMENT, other_ach_id)):
        assert _status(world, model, pid) == "open"
        assert _indexed_status(index, side, pid) == "open"
    with Session(e) as s:
        moves = s.exec(
            select(AuditEvent.action).where(AuditEvent.entity == "need", AuditEvent.entity_id == need_id)
        ).all()
    assert [m for m in moves if m.startswith("status:")] == ["status:contracted", "status:open"]


def test_a_closed_posting_stays_closed_when_its_contract_is_cancelled(
    world: World, index: IndexService
) -> None:
    e, u = world.engine, world.actor
    need_id, ach_id = _post(world, index, "ent", NEED, "uni", ACH)
    run_matching(e, index, u["admin"], k=3)
    cid = _contract(world, index, _accepted_match(world, need_id, ach_id), "HT-L3")
    postings.set_status(e, index, u["ent"], Need, need_id, PostingStatus.CLOSED)
    contracts.cancel_contract(e, u["admin"], cid, "合同解除", index=index)
    assert _status(world, Need, need_id) == "closed"
    assert _status(world, Achievement, ach_id) == "open"
