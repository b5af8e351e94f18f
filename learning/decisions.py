"""The decision log as labelled pairs, and its export as a BEIR-layout set.

Labels: contracted = 2; accepted, negotiating and failed (a broker judged the pair worth introducing) = 1;
rejected = 0, with the reason code; suggested, assigned and withdrawn = unlabelled (None). Only a
rejection for relevance (``not_relevant``) is a text negative in the exported qrels: budget, maturity,
region, IP or duplicate rejections say nothing about whether the texts match, and stay in
``labels.jsonl`` for the re-ranker.

Confidential postings are never exported: a pair with a confidential side is counted and left out.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from matcher.postings import posting_text
from models import Achievement, Match, MatchStatus, Need, RejectReason, Visibility
from services.index import INDEXED_STATUSES, to_posting

LABELS: dict[MatchStatus, int | None] = {
    MatchStatus.CONTRACTED: 2,
    MatchStatus.ACCEPTED: 1,
    MatchStatus.NEGOTIATING: 1,
    MatchStatus.FAILED: 1,
    MatchStatus.REJECTED: 0,
    MatchStatus.SUGGESTED: None,
    MatchStatus.ASSIGNED: None,
    MatchStatus.WITHDRAWN: None,
}
TEXT_NEGATIVE_REASONS = frozenset({RejectReason.NOT_RELEVANT})


@dataclass(frozen=True)
class LabelledPair:
    """One suggestion of the log with its label (None: not decided)."""

    match_id: int
    need_id: int
    achievement_id: int
    label: int | None
    status: str
    reason: str | None
    decided_at: datetime | None
    created_at: datetime
    rank: int
    score: float
    components: dict[str, float]
    engine_version: str


def labelled_pairs(session: Session) -> list[LabelledPair]:
    """Every match of the log, oldest first, labelled."""
    matches = session.exec(select(Match).order_by(col(Match.created_at), col(Match.id))).all()
    return [
        LabelledPair(
            match_id=m.id or 0,
            need_id=m.need_id,
            achievement_id=m.achievement_id,
            label=LABELS[MatchStatus(m.status)],
            status=MatchStatus(m.status).value,
            reason=m.reject_reason.value if m.reject_reason else None,
            decided_at=m.decided_at,
            created_at=m.created_at,
            rank=m.rank,
            score=m.score,
            components=dict(m.components),
            engine_version=m.engine_version,
        )
        for m in matches
    ]


def _write_jsonl(path: Path, rows: list[dict[str, Any]]) -> None:
    with path.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")


def export_pairs(db: Engine, out: Path) -> dict[str, int]:
    """Write queries (needs with a decision), corpus (public indexed achievements and any achievement of
    a decision), qrels and labels.jsonl to ``out`` (replaced atomically). Returns counts."""
    with Session(db) as session:
        pairs = labelled_pairs(session)
        needs = {
            n.id: n for n in session.exec(select(Need).where(col(Need.id).in_({p.need_id for p in pairs})))
        }
        wanted = {p.achievement_id for p in pairs}
        achievements = {
            a.id: a
            for a in session.exec(
                select(Achievement).where(
                    col(Achievement.status).in_(INDEXED_STATUSES) | col(Achievement.id).in_(wanted)
                )
            )
        }
    public_needs = {i: n for i, n in needs.items() if n.visibility == Visibility.PUBLIC}
    public_achievements = {i: a for i, a in achievements.items() if a.visibility == Visibility.PUBLIC}
    kept = [p for p in pairs if p.need_id in public_needs and p.achievement_id in public_achievements]
    qrels = [
        (p.need_id, p.achievement_id, p.label)
        for p in kept
        if p.label is not None and (p.label > 0 or p.reason in TEXT_NEGATIVE_REASONS)
    ]
    query_ids = sorted({n for n, _, rel in qrels if rel is not None and rel > 0})
    out.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    try:
        _write_jsonl(
            work / "queries.jsonl",
            [{"id": f"need-{i}", "text": posting_text(to_posting(public_needs[i]))} for i in query_ids],
        )
        _write_jsonl(
            work / "corpus.jsonl",
            [
                {"id": f"achievement-{i}", "text": posting_text(to_posting(a))}
                for i, a in sorted(public_achievements.items())
            ],
        )
        with (work / "qrels.tsv").open("w", encoding="utf-8") as handle:
            handle.write("query_id\tdoc_id\trelevance\n")
            for need_id, ach_id, rel in qrels:
                if need_id in query_ids:
                    handle.write(f"need-{need_id}\tachievement-{ach_id}\t{rel}\n")
        _write_jsonl(work / "labels.jsonl", [asdict(p) for p in kept])
        if out.exists():
            shutil.rmtree(out)
        os.replace(work, out)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    labelled = [p for p in kept if p.label is not None]
    return {
        "pairs": len(pairs),
        "left_out_confidential": len(pairs) - len(kept),
        "positive": sum(1 for p in labelled if (p.label or 0) > 0),
        "rejected": sum(1 for p in labelled if p.label == 0),
        "unlabelled": len(kept) - len(labelled),
        "queries": len(query_ids),
        "corpus": len(public_achievements),
    }
