"""Read-only look-ups the pages need and the services do not (yet) offer: display names for ids, and
the exhibition's maturity filter. Every posting still goes through `services.postings.present`, so
confidential fields are masked exactly as in the API."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from models import Achievement, Maturity, Organization, PolicyRule, PostingStatus, User
from services.actor import Actor
from services.postings import Page, present

EXHIBITED = (PostingStatus.OPEN, PostingStatus.MATCHED, PostingStatus.CONTRACTED)


def user_names(db: Engine, ids: Iterable[int]) -> dict[int, str]:
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    with Session(db) as session:
        rows = session.exec(select(User.id, User.display_name).where(col(User.id).in_(wanted))).all()
    return {int(i): name for i, name in rows if i is not None}


def org_names(db: Engine, ids: Iterable[int | None]) -> dict[int, str]:
    """Organisation names are public within the marketplace (as in GET /organizations)."""
    wanted = sorted({i for i in ids if i is not None})
    if not wanted:
        return {}
    with Session(db) as session:
        rows = session.exec(
            select(Organization.id, Organization.name).where(col(Organization.id).in_(wanted))
        ).all()
    return {int(i): name for i, name in rows if i is not None}


def exhibition(
    db: Engine,
    actor: Actor,
    *,
    field_code: str | None,
    region_code: str | None,
    maturity: Maturity | None,
    q: str | None,
    offset: int,
    limit: int,
) -> Page:
    """Open achievements, newest first, by field prefix, region (or its cities), maturity and title."""
    where: list[Any] = [col(Achievement.status).in_(EXHIBITED)]
    if field_code:
        where.append(col(Achievement.field_code).startswith(field_code))
    if region_code:
        where.append(col(Achievement.region_code).startswith(_region_prefix(region_code)))
    if maturity:
        where.append(Achievement.maturity == maturity)
    if q:
        where.append(col(Achievement.title).contains(q))
    with Session(db) as session:
        total = session.exec(select(func.count()).select_from(Achievement).where(*where)).one()
        rows = session.exec(
            select(Achievement)
            .where(*where)
            .order_by(col(Achievement.created_at).desc(), col(Achievement.id).desc())
            .offset(offset)
            .limit(limit)
        ).all()
        items = [present(r, actor, session=session) for r in rows]
    return Page(items=items, total=int(total), offset=offset, limit=limit)


def _region_prefix(code: str) -> str:
    """A GB/T 2260 province (410000) or city (410100) code covers the codes that share its prefix."""
    if code.endswith("0000"):
        return code[:2]
    if code.endswith("00"):
        return code[:4]
    return code


def policy_rules(db: Engine) -> list[dict[str, Any]]:
    """Every subsidy rule, active or not, by code (services.subsidies reads only the active ones)."""
    with Session(db) as session:
        rows = session.exec(select(PolicyRule).order_by(col(PolicyRule.code))).all()
        return [r.model_dump() for r in rows]
