"""Liveness and readiness: database reachable, schema migrated, index loaded."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel
from sqlalchemy import text

from data.migrate import current_revision

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str
    database: str
    schema_revision: str | None
    encoder: str
    indexed_needs: int
    indexed_achievements: int


@router.get("/health")
def health(request: Request) -> Health:
    state = request.app.state.techmatch
    with state.engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    counts = state.index.counts()
    return Health(
        status="ok",
        database=state.engine.dialect.name,
        schema_revision=current_revision(state.engine),
        encoder=state.index.encoder_name,
        indexed_needs=counts.get("need", 0),
        indexed_achievements=counts.get("achievement", 0),
    )
