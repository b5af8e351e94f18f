"""The demo's 揭榜挂帅 calls and scenes load on both databases and give the subsidy rules, the call
statistics and the solver recommendation real numbers."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from matcher.config import EngineConfig
from matcher.encoders import EncoderConfig, create_encoder
from models import Call, CallStatus, Need, NeedKind
from services import call_stats, solvers, subsidies
from services.actor import SYSTEM
from services.demo import load_demo
from services.index import IndexService


def test_demo_calls_and_scenes(engine: Engine) -> None:
    assert "16 揭榜挂帅 calls, 10 scenes" in load_demo(engine)
    summary = call_stats.summary(engine)
    assert summary["calls"] == 16 and set(summary["by_form"]) == {"揭榜攻关", "赛马制", "揭榜转化"}
    assert summary["by_status"]["in_progress"] >= 3 and summary["paid_amount"] > 0
    assert summary["scenes"]["total"] == 10 and len(summary["scenes"]["by_category"]) == 8
    rows = subsidies.compute_subsidies(engine, year=2026)
    m1 = [r for r in rows if r["rule_code"] == "M1" and r["call_id"] is not None]
    assert m1 and all(r["subsidy"] == min(r["base_amount"] * Decimal("0.3"), Decimal(5_000_000)) for r in m1)
    m4 = [r for r in rows if r["rule_code"] == "M4"]
    assert len(m4) >= 2 and any(r["capped"] for r in m4)  # Zhengzhou's rule: pilots of Zhengzhou owners

    index = IndexService(
        create_encoder(EncoderConfig(name="hashing")),
        EngineConfig.for_encoder("hashing", index_backend="numpy"),
        None,
    )
    index.rebuild(engine)
    with Session(engine) as s:
        open_call = s.exec(
            select(Call).where(Call.status == CallStatus.PUBLISHED, col(Call.need_id).is_not(None))
        ).first()
        assert open_call is not None
        assert len(s.exec(select(Need).where(Need.kind == NeedKind.SCENE)).all()) == 10
    ranked = solvers.recommend_solvers(engine, index, SYSTEM, open_call.id or 0, k=5)
    assert ranked and all(r["justification"] for r in ranked)
