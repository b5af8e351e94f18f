"""The demo marketplace as the service sees it, for measurements: a throw-away database, the index, the
needs' fused candidates, the gold pairs, and a simulated decision log.

The demo ships gold pairs but only a handful of decided matches (its contracts), too few to learn
from. `simulated_decisions` therefore plays a broker over the fused top-N of every need, in the order
the needs were posted: a gold pair is accepted (graded by its gold relevance) unless its price is more
than 50% over the budget ceiling (rejected: budget) or it is two maturity stages short (rejected:
maturity); anything else is rejected as not relevant. It is a stand-in for a real log, stated as such
wherever its figures appear.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlmodel import Session, col, select

from data.db import create_db_engine
from data.migrate import upgrade
from learning.ranker import Decision, _over_budget
from matcher.config import EngineConfig
from matcher.encoders import EncoderConfig, create_encoder
from matcher.engine import Suggestion
from matcher.filters import PostingFilter
from matcher.postings import Posting, Side
from models import Achievement, Need
from services.demo import load_demo
from services.index import INDEXED_STATUSES, IndexService, to_posting

GOLD = Path(__file__).resolve().parents[1] / "data" / "demo" / "gold_pairs.jsonl"


@dataclass
class DemoRun:
    """Needs in posting order with their fused candidates, postings by id, and the gold pairs."""

    index: IndexService
    needs: list[int]
    need_postings: dict[int, Posting]
    achievements: dict[int, Posting]
    candidates: dict[int, list[Suggestion]]
    gold: dict[int, dict[int, int]]


@contextmanager
def demo_run(encoder_name: str, cache_dir: Path | None, depth: int) -> Iterator[DemoRun]:
    """Load the demo into a temporary SQLite database, index it, rank every open need's top ``depth``."""
    statuses = frozenset(s.value for s in INDEXED_STATUSES)
    with tempfile.TemporaryDirectory() as tmp:
        db = create_db_engine(f"sqlite:///{tmp}/demo.db")
        upgrade(db)
        load_demo(db)
        encoder = create_encoder(EncoderConfig(name=encoder_name, threads=2, cache_dir=cache_dir))
        index = IndexService(encoder, EngineConfig.for_encoder_of(encoder), None)
        index.start(db)
        with Session(db) as session:
            needs = list(
                session.exec(
                    select(Need)
                    .where(col(Need.status).in_(INDEXED_STATUSES))
                    .order_by(col(Need.created_at), col(Need.id))
                ).all()
            )
            achievements = list(session.exec(select(Achievement)).all())
        need_ids = {n.external_id: n.id or 0 for n in needs}
        ach_ids = {a.external_id: a.id or 0 for a in achievements}
        gold: dict[int, dict[int, int]] = {}
        for line in GOLD.read_text(encoding="utf-8").splitlines():
            pair = json.loads(line)
            need, ach = need_ids.get(pair["need_external_id"]), ach_ids.get(pair["achievement_external_id"])
            if need is not None and ach is not None:
                gold.setdefault(need, {})[ach] = int(pair["relevance"])
        candidates = {
            n.id or 0: index.suggest(
                n, depth, PostingFilter.for_counterparts(to_posting(n), statuses=statuses)
            )
            for n in needs
        }
        yield DemoRun(
            index=index,
            needs=[n.id or 0 for n in needs],
            need_postings={n.id or 0: to_posting(n) for n in needs},
            achievements={a.id or 0: to_posting(a) for a in achievements},
            candidates=candidates,
            gold=gold,
        )
        db.dispose()


def simulated_decisions(run: DemoRun) -> list[Decision]:
    """A broker's decisions on every need's candidates (see the module docstring)."""
    decisions: list[Decision] = []
    for need_id in run.needs:
        need = run.need_postings[need_id]
        for s in run.candidates[need_id]:
            achievement = run.achievements[s.id]
            relevance = run.gold.get(need_id, {}).get(s.id, 0)
            short = (
                need.maturity is not None
                and achievement.maturity is not None
                and need.maturity - achievement.maturity >= 2
            )
            if relevance > 0 and _over_budget(need, achievement) <= 0.5 and not short:
                decisions.append(Decision(need_id, s.id, relevance))
            else:
                decisions.append(Decision(need_id, s.id, 0))
    return decisions


__all__ = ["DemoRun", "Side", "demo_run", "simulated_decisions"]
