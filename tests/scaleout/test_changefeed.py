"""The change feed: written with every posting change, followed by other processes' indexes, and a
cursor that never passes a sequence number that may still commit."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from data.changes import announce_rebuild, head_seq
from models import Need, PostingChange, PostingStatus
from models.schemas import NeedCreate
from models.types import utc_now
from services import postings
from services.accounts import actor_for_user
from services.changefeed import GAP_TIMEOUT, ChangeFollower
from services.config import Settings
from services.saver import SaverLock
from tests.api.conftest import World, seed_people, test_index


def _world(engine: Engine, tmp_path: Path) -> World:
    world = World(settings=Settings(data_dir=tmp_path), engine=engine, index=test_index())
    seed_people(engine, world)
    return world


def _need(world: World, title: str) -> int:
    actor = actor_for_user(world.engine, world.user["enterprise"])
    assert actor is not None
    data = NeedCreate(
        title=title,
        description=f"{title}，需要技术方案。",
        field_code="F02",
        budget_max=Decimal("1000000.00"),
    )
    return int(postings.create_need(world.engine, world.index, actor, data)["id"])


def test_a_write_through_one_index_reaches_another_through_the_feed(engine: Engine, tmp_path: Path) -> None:
    world = _world(engine, tmp_path)
    other = test_index()  # a second worker's index over the same database
    other.start(engine)
    follower = ChangeFollower(engine, other)
    need_id = _need(world, "锂电池正极材料烧结")
    assert need_id in world.index.engine.collection("need").postings
    assert need_id not in other.engine.collection("need").postings
    assert follower.poll_once() >= 1
    assert need_id in other.engine.collection("need").postings
    assert follower.poll_once() == 0  # nothing is applied twice
    actor = actor_for_user(engine, world.user["enterprise"])
    assert actor is not None
    postings.set_status(engine, world.index, actor, Need, need_id, PostingStatus.WITHDRAWN)
    follower.poll_once()
    assert need_id not in other.engine.collection("need").postings
    with Session(engine) as s:  # one row per write: create, the id fix-up flush, withdraw
        changes = s.exec(select(PostingChange).where(PostingChange.posting_id == need_id)).all()
    assert {c.side for c in changes} == {"need"} and len(changes) >= 2


def test_the_cursor_waits_at_a_gap_until_it_is_old(engine: Engine, tmp_path: Path) -> None:
    world = _world(engine, tmp_path)
    follower = ChangeFollower(engine, test_index())
    first, second = _need(world, "盾构机刀盘耐磨"), _need(world, "玉米秸秆饲料化")
    with Session(engine) as s:  # pretend the first need's changes belong to a transaction still open
        hidden = s.exec(select(PostingChange).where(PostingChange.posting_id == first)).all()
        for change in hidden:
            s.delete(change)
        s.commit()
    follower.poll_once()
    assert follower.cursor < min(c.seq or 0 for c in hidden)  # it waits for the missing numbers
    with Session(engine) as s:  # much later: the gap is given up on
        s.execute(update(PostingChange).values(created_at=utc_now() - GAP_TIMEOUT - timedelta(seconds=1)))
        s.commit()
    follower.poll_once()
    with engine.connect() as c:
        assert follower.cursor == head_seq(c)
    assert second in follower._target.engine.collection("need").postings  # type: ignore[attr-defined]


def test_a_rebuild_marker_makes_other_processes_rebuild(engine: Engine, tmp_path: Path) -> None:
    world = _world(engine, tmp_path)
    _need(world, "工业废水脱氮")
    other = test_index()
    other.start(engine)
    seen: list[int] = []
    other.rebuild_requested = lambda db, seq: seen.append(seq)  # type: ignore[method-assign]
    follower = ChangeFollower(engine, other)
    follower.poll_once()
    marker = announce_rebuild(engine)
    follower.poll_once()
    assert seen == [marker]
    with Session(engine) as s:
        assert s.exec(select(col(PostingChange.side)).where(PostingChange.seq == marker)).one() == "*"


def test_only_one_holder_of_the_saver_lock(tmp_path: Path) -> None:
    a, b = SaverLock(tmp_path), SaverLock(tmp_path)
    assert a.acquire() and a.acquire() and not b.acquire()
    a.release()
    assert b.acquire()
    b.release()
    assert not SaverLock(None).acquire()
