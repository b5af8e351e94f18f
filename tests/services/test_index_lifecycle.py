"""The index follows the database: every change before the call returns, and a missing, corrupt or
stale index is rebuilt or caught up on start with the same answers."""

from __future__ import annotations

import os
import shutil
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from matcher.config import EngineConfig
from matcher.encoders import EncoderConfig, create_encoder
from matcher.postings import Side
from models import Need, Organization, OrgKind, PostingStatus, Role
from models.schemas import AchievementCreate, NeedCreate, NeedUpdate
from services import postings
from services.actor import Actor
from services.errors import InvalidInputError, PermissionDeniedError
from services.index import IndexService
from tests.services.conftest import World

NEEDS = [
    ("盾构机刀盘磨损快", "盾构施工中刀盘和滚刀磨损严重，换刀频繁，影响掘进效率。", "F02"),
    ("小麦赤霉病防控", "需要抗赤霉病的小麦新品种或者绿色防控技术。", "F11"),
    ("锂电池低温性能差", "冬季储能电池容量衰减明显，需要低温电解液。", "F06"),
]
ACHIEVEMENTS = [
    (
        "高耐磨硬质合金滚刀材料",
        "本成果提供一种用于盾构滚刀的硬质合金材料，耐磨性提高一倍，盾构刀盘换刀次数减少，刀具寿命显著延长。",
        "F02",
    ),
    ("抗赤霉病小麦新品种郑麦", "选育出高抗赤霉病的小麦品种，产量稳定，适合黄淮麦区推广。", "F11"),
    ("宽温域锂离子电池电解液", "新型电解液在零下三十度仍保持百分之八十容量，适用于储能和动力电池。", "F06"),
    ("工业机器人视觉定位", "基于深度学习的机器人视觉定位系统，定位精度高。", "F02"),
]


def _index(directory: Path | None) -> IndexService:
    encoder = create_encoder(EncoderConfig(name="hashing"))
    return IndexService(encoder, EngineConfig.for_encoder("hashing", index_backend="faiss-flat"), directory)


@pytest.fixture
def market(engine: Engine, tmp_path: Path) -> tuple[IndexService, Actor, Actor, Path]:
    with Session(engine) as s:
        ent = Organization(
            name="郑州装备公司", kind=OrgKind.ENTERPRISE, uscc="91350100M000100Y43", region_code="410100"
        )
        uni = Organization(
            name="郑州大学", kind=OrgKind.UNIVERSITY, uscc="12100000400010398P", region_code="410100"
        )
        s.add_all([ent, uni])
        s.commit()
        buyer = Actor(user_id=None, org_id=ent.id, role=Role.ENTERPRISE)
        seller = Actor(user_id=None, org_id=uni.id, role=Role.INSTITUTION)
    index = _index(tmp_path / "index")
    index.start(engine)
    for title, body, field in NEEDS:
        postings.create_need(
            engine, index, buyer, NeedCreate(title=title, description=body, field_code=field)
        )
    for title, body, field in ACHIEVEMENTS:
        postings.create_achievement(
            engine, index, seller, AchievementCreate(title=title, abstract=body, field_code=field)
        )
    index.save()
    return index, buyer, seller, tmp_path / "index"


def _answers(engine: Engine, index: IndexService) -> list[list[int]]:
    with Session(engine) as s:
        needs = [s.get(Need, i) for i in (1, 2, 3)]
        return [[x.id for x in index.suggest(n, k=3)] for n in needs if n is not None]


def test_create_updates_index_and_suggests_both_ways(
    engine: Engine, market: tuple[IndexService, Actor, Actor, Path]
) -> None:
    index, _, _, _ = market
    assert index.counts() == {"need": 3, "achievement": 4}
    answers = _answers(engine, index)
    assert [a[0] for a in answers] == [1, 2, 3]  # each need finds its own achievement first
    with Session(engine) as s:
        from models import Achievement

        ach = s.get(Achievement, 2)
        assert ach is not None
        assert index.suggest(ach, k=1)[0].id == 2  # achievement → needs


def test_rebuild_after_missing_or_corrupt_files(
    engine: Engine, market: tuple[IndexService, Actor, Actor, Path]
) -> None:
    index, _, _, directory = market
    before = _answers(engine, index)
    for victim in sorted(directory.rglob("*")):
        if victim.is_file() and victim.suffix in {".npy", ".faiss", ".bin", ".index"}:
            victim.write_bytes(b"garbage")
    corrupt = _index(directory)
    assert corrupt.start(engine) == "rebuilt"
    assert _answers(engine, corrupt) == before
    for victim in directory.rglob("*"):
        if victim.is_file():
            victim.unlink()
    missing = _index(directory)
    assert missing.start(engine) == "rebuilt"
    assert _answers(engine, missing) == before


def test_catch_up_after_changes_while_down(
    engine: Engine, market: tuple[IndexService, Actor, Actor, Path]
) -> None:
    _, buyer, _, directory = market
    offline = _index(None)  # a second process changes the database while the saved index is not running
    postings.set_status(engine, offline, buyer, Need, 2, PostingStatus.WITHDRAWN)
    postings.create_need(
        engine,
        offline,
        buyer,
        NeedCreate(title="氢燃料电池电堆寿命短", description="电堆衰减快。", field_code="F06"),
    )
    restarted = _index(directory)
    assert restarted.start(engine).startswith("loaded")
    assert restarted.counts() == {"need": 3, "achievement": 4}
    assert 2 not in restarted._indexed_ids(Side.NEED)


def test_withdraw_removes_and_update_reindexes(
    engine: Engine, market: tuple[IndexService, Actor, Actor, Path]
) -> None:
    index, buyer, _, _ = market
    postings.set_status(engine, index, buyer, Need, 1, PostingStatus.WITHDRAWN)
    assert index.counts()["need"] == 2
    postings.update_posting(
        engine,
        index,
        buyer,
        Need,
        3,
        NeedUpdate(title="盾构滚刀寿命短", description="滚刀磨损严重需要耐磨硬质合金。"),
    )
    with Session(engine) as s:
        need = s.get(Need, 3)
        assert need is not None
        assert index.suggest(need, k=1)[0].id == 1


def test_bad_codes_and_foreign_org_refused(
    engine: Engine, market: tuple[IndexService, Actor, Actor, Path]
) -> None:
    index, buyer, seller, _ = market
    with pytest.raises(InvalidInputError, match="unknown field code"):
        postings.create_need(engine, index, buyer, NeedCreate(title="t", description="d", field_code="F99"))
    with pytest.raises(InvalidInputError, match="unknown region code"):
        postings.create_need(
            engine,
            index,
            buyer,
            NeedCreate(title="t", description="d", field_code="F01", region_code="999999"),
        )
    with pytest.raises(PermissionDeniedError):
        postings.update_posting(engine, index, seller, Need, 1, NeedUpdate(title="x"))
    assert index.counts() == {"need": 3, "achievement": 4}


def test_near_duplicate_flagged(engine: Engine, market: tuple[IndexService, Actor, Actor, Path]) -> None:
    index, buyer, _, _ = market
    title, body, field = NEEDS[0]
    again = postings.create_need(
        engine, index, buyer, NeedCreate(title=title, description=body, field_code=field)
    )
    assert again["duplicate_flags"] and again["duplicate_flags"][0]["existing_id"] == 1
    assert again["duplicate_flags"][0]["same_org"] is True


def test_a_batch_that_repeats_itself_is_flagged_with_real_ids(
    engine: Engine, market: tuple[IndexService, Actor, Actor, Path]
) -> None:
    """Rows of one import chunk are checked against the index and against each other; a flag on an
    earlier row of the batch names that row's database id, in memory and as stored."""
    index, buyer, _, _ = market
    text = "研发一种新型盾构机滚刀耐磨涂层材料，延长滚刀更换周期，降低隧道施工成本。"
    items = [
        NeedCreate(title="盾构滚刀耐磨涂层", description=text, field_code="F02"),
        NeedCreate(title="盾构滚刀耐磨涂层", description=text, field_code="F02"),
    ]
    with Session(engine) as session:
        org = session.get(Organization, buyer.org_id)
        assert org is not None
        first, second = postings.insert_postings(session, index, buyer, org, items)
        session.commit()
        assert first.duplicate_flags == []
        assert [f["existing_id"] for f in second.duplicate_flags] == [first.id]
        session.refresh(second)
        assert second.duplicate_flags[0]["existing_id"] == first.id
    assert index.counts()["need"] == 5


def test_concurrent_creates_never_wait_on_each_other(world: World, index: IndexService) -> None:
    """Each create writes the embedding cache and then takes the index lock. One that waited on the
    database while holding the lock would stall the others until SQLite's busy timeout and fail."""
    failures: list[BaseException] = []

    def create(n: int) -> None:
        try:
            data = NeedCreate(
                title=f"盾构刀盘磨损第{n}号", description=f"第{n}台盾构机刀盘磨损快。", field_code="F02"
            )
            postings.create_need(world.engine, index, world.actor["ent"], data)
        except BaseException as exc:  # collected, so the test reports it instead of the thread
            failures.append(exc)

    threads = [threading.Thread(target=create, args=(n,)) for n in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert index.counts()["need"] == 12


def test_start_removes_the_staging_folders_of_interrupted_saves(
    engine: Engine, market: tuple[IndexService, Actor, Actor, Path]
) -> None:
    """A save killed before its swap (kill -9 cannot be caught) leaves a full staging copy beside the
    index; the next start removes it, but not a fresh one that may be another process's save."""
    _, _, _, directory = market
    stale = directory.with_name(f".{directory.name}.killed1")
    half_swapped = directory.with_name(f".{directory.name}.old")
    fresh = directory.with_name(f".{directory.name}.running")
    for leftover in (stale, half_swapped, fresh):
        shutil.copytree(directory, leftover)
    an_hour_ago = time.time() - 3600
    for leftover in (stale, half_swapped):
        os.utime(leftover, (an_hour_ago, an_hour_ago))
    restarted = _index(directory)
    assert restarted.start(engine).startswith("loaded")
    assert not stale.exists() and not half_swapped.exists()
    assert fresh.exists() and directory.exists()
    assert _answers(engine, restarted)
