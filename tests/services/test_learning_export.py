"""The decision log as labelled pairs and its BEIR export (on SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from pathlib import Path

from sqlmodel import Session

from evaluation.datasets import load_dataset
from learning.decisions import export_pairs
from models import Achievement, Match, MatchStatus, Need, RejectReason, Visibility
from tests.services.conftest import World


def _seed(world: World) -> dict[str, int]:
    ids: dict[str, int] = {}
    with Session(world.engine) as s:
        for key, org, text, vis in (
            ("n1", "ent", "陶瓷窑炉余热回收利用", Visibility.PUBLIC),
            ("n2", "ent2", "空分设备节能改造", Visibility.PUBLIC),
            ("secret", "ent", "保密的需求内容", Visibility.CONFIDENTIAL),
        ):
            need = Need(
                org_id=world.org[org],
                title=text,
                description=text,
                field_code="F02",
                region_code="410100",
                visibility=vis,
            )
            s.add(need)
            s.flush()
            ids[key] = need.id or 0
        for key, org, text in (
            ("a1", "uni", "窑炉烟气余热梯级回收"),
            ("a2", "inst", "电动汽车热泵空调"),
            ("a3", "uni2", "低温精馏节能工艺"),
        ):
            ach = Achievement(
                org_id=world.org[org], title=text, abstract=text, field_code="F02", region_code="410100"
            )
            s.add(ach)
            s.flush()
            ids[key] = ach.id or 0
        for need_key, ach_key, status, reason in (
            ("n1", "a1", MatchStatus.CONTRACTED, None),
            ("n1", "a2", MatchStatus.REJECTED, RejectReason.NOT_RELEVANT),
            ("n1", "a3", MatchStatus.REJECTED, RejectReason.BUDGET),
            ("n2", "a3", MatchStatus.ACCEPTED, None),
            ("n2", "a1", MatchStatus.SUGGESTED, None),
            ("secret", "a1", MatchStatus.ACCEPTED, None),
        ):
            s.add(
                Match(
                    need_id=ids[need_key],
                    achievement_id=ids[ach_key],
                    score=0.5,
                    rank=1,
                    engine_version="t",
                    status=status,
                    reject_reason=reason,
                )
            )
        s.commit()
    return ids


def test_export_labels_pairs_and_keeps_confidential_out(world: World, tmp_path: Path) -> None:
    ids = _seed(world)
    counts = export_pairs(world.engine, tmp_path / "log")
    assert counts == {
        "pairs": 6,
        "left_out_confidential": 1,
        "positive": 2,
        "rejected": 2,
        "unlabelled": 1,
        "queries": 2,
        "corpus": 3,
    }
    data = load_dataset(tmp_path / "log")
    n1, n2 = f"need-{ids['n1']}", f"need-{ids['n2']}"
    assert data.qrels[n1] == {
        f"achievement-{ids['a1']}": 2,
        f"achievement-{ids['a2']}": 0,
    }  # budget: no text label
    assert data.qrels[n2] == {f"achievement-{ids['a3']}": 1}
    exported = "".join(p.read_text(encoding="utf-8") for p in (tmp_path / "log").iterdir())
    assert "保密" not in exported
    labels = [json.loads(line) for line in (tmp_path / "log" / "labels.jsonl").read_text().splitlines()]
    assert {(r["status"], r["reason"], r["label"]) for r in labels} >= {
        ("rejected", "budget", 0),
        ("suggested", None, None),
    }
