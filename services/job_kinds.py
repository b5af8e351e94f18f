"""The kinds of durable job and what each one runs (see services/jobs.py for the machinery).

Each handler is safe to run again after a crash: the matching run is stored in chunks of needs that
the checkpoint skips on resume (a redone chunk refreshes its matches, one row per pair by
``uq_match_pair``); a reindex rebuilds from the database; an assignment only takes still-suggested
matches. A bulk import is not repeatable for rows without an ``external_id``, so it gets one attempt: a
lost import is marked failed with its reason, and the chunks it committed stay. Other branches add
their kinds (exports, learning) with `register`.
"""

from __future__ import annotations

import base64
from typing import Any, Literal, cast

from sqlmodel import Session, col, select

from data.changes import announce_rebuild
from models import Achievement, Match, Need, Role
from services.actor import SYSTEM, Actor
from services.assignment import assign_matches
from services.imports import import_postings
from services.index import INDEXED_STATUSES, IndexService
from services.jobs import JobContext, JobHandler
from services.matching import run_matching

__all__ = ["HANDLERS", "KIND_LABELS", "MATCHING_CHUNK", "max_attempts", "register"]

MATCHING_CHUNK = 50
"""Needs per stored chunk of a matching job: the unit of progress and of resumption."""

KIND_LABELS = {"reindex": "重建索引", "import": "批量导入", "matching": "撮合运行", "assign": "经纪人分派"}
_ONE_ATTEMPT = frozenset({"import"})


def max_attempts(kind: str) -> int:
    return 1 if kind in _ONE_ATTEMPT else 3


def _index(ctx: JobContext) -> IndexService:
    return cast(IndexService, ctx.services["index"])


def reindex(ctx: JobContext) -> dict[str, Any]:
    """Rebuild this process's index beside the live one and tell every other process to do the same."""
    announce_rebuild(ctx.db)
    done = 0

    def advance(rows: int, total: int) -> None:
        nonlocal done
        if total >= 0:
            ctx.progress(0, total)
        else:
            done += rows
            ctx.progress(done)

    total = _index(ctx).rebuild(ctx.db, advance)
    ctx.progress(total, total)
    return {"indexed": total, "summary": f"已重建索引，共 {total} 条发布信息。"}


def matching(ctx: JobContext) -> dict[str, Any]:
    """`run_matching` over every open need in chunks, then the achievements no need reached."""
    k = int(ctx.params.get("k", 10))
    index = _index(ctx)
    if ctx.params.get("need_ids") is not None or ctx.params.get("achievement_ids") is not None:
        summary = run_matching(
            ctx.db,
            index,
            SYSTEM,
            need_ids=ctx.params.get("need_ids"),
            achievement_ids=ctx.params.get("achievement_ids"),
            k=k,
        )
        return {**summary, "summary": _matching_line(summary)}
    with Session(ctx.db) as session:
        need_ids = [
            i
            for i in session.exec(
                select(Need.id).where(col(Need.status).in_(INDEXED_STATUSES)).order_by(col(Need.id))
            ).all()
            if i is not None
        ]
    start = int(ctx.checkpoint.get("needs_done", 0))
    totals: dict[str, int] = dict(ctx.checkpoint.get("totals", {}))
    ctx.progress(start, len(need_ids) + 1)
    for at in range(start, len(need_ids), MATCHING_CHUNK):
        chunk = need_ids[at : at + MATCHING_CHUNK]
        _add(totals, run_matching(ctx.db, index, SYSTEM, need_ids=chunk, k=k))
        done = at + len(chunk)
        ctx.progress(done, checkpoint={"needs_done": done, "totals": totals})
    with Session(ctx.db) as session:
        unreached = [
            i
            for i in session.exec(
                select(Achievement.id)
                .where(
                    col(Achievement.status).in_(INDEXED_STATUSES),
                    col(Achievement.id).not_in(select(Match.achievement_id)),
                )
                .order_by(col(Achievement.id))
            ).all()
            if i is not None
        ]
    if unreached:
        _add(totals, run_matching(ctx.db, index, SYSTEM, achievement_ids=unreached, k=k))
    ctx.progress(len(need_ids) + 1, len(need_ids) + 1)
    result: dict[str, Any] = {
        **totals,
        "needs_queried": len(need_ids),
        "resumed_from": start,
        "engine_version": index.engine_version,
        "k": k,
    }
    return {**result, "summary": _matching_line(result)}


def _add(totals: dict[str, int], summary: dict[str, Any]) -> None:
    for key in ("achievements_queried", "suggestions", "created", "refreshed", "kept_decided"):
        totals[key] = totals.get(key, 0) + int(summary.get(key, 0))


def _matching_line(summary: dict[str, Any]) -> str:
    return (
        f"撮合完成：新增 {summary.get('created', 0)} 条，刷新 {summary.get('refreshed', 0)} 条，"
        f"保留已决定 {summary.get('kept_decided', 0)} 条。"
    )


def assign(ctx: JobContext) -> dict[str, Any]:
    result = assign_matches(ctx.db, SYSTEM)
    return {**result, "summary": f"已分派 {result['assigned']} / {result['considered']} 条撮合。"}


def bulk_import(ctx: JobContext) -> dict[str, Any]:
    p = ctx.params
    who = p["actor"]
    actor = Actor(who["user_id"], who["org_id"], Role(who["role"]), who.get("broker_id"))
    kind = cast(Literal["need", "achievement"], p["kind"])
    fmt = cast(Literal["jsonl", "csv"], p["format"])
    payload = base64.b64decode(p["payload"])
    result = import_postings(ctx.db, _index(ctx), actor, kind, payload, fmt, org_id=p.get("org_id"))
    ctx.progress(result.received, result.received)
    line = (
        f"共 {result.received} 行：新增 {result.created}，重复跳过 {result.skipped_duplicate}，"
        f"无效 {result.invalid}。"
    )
    return {**result.model_dump(exclude={"rows"}), "summary": line}


def import_params(actor: Actor, kind: str, fmt: str, payload: bytes, org_id: int | None) -> dict[str, Any]:
    """The JSON parameters of an import job (the file travels base64-encoded in the job row)."""
    return {
        "kind": kind,
        "format": fmt,
        "org_id": org_id,
        "payload": base64.b64encode(payload).decode(),
        "actor": {
            "user_id": actor.user_id,
            "org_id": actor.org_id,
            "role": actor.role.value,
            "broker_id": actor.broker_id,
        },
    }


HANDLERS: dict[str, JobHandler] = {
    "reindex": reindex,
    "import": bulk_import,
    "matching": matching,
    "assign": assign,
}


def register(kind: str, handler: JobHandler, label: str) -> None:
    """Add a job kind (exports, learning, ...) to every runner started after this call."""
    HANDLERS[kind] = handler
    KIND_LABELS[kind] = label
