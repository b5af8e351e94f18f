"""FastAPI application factory. No import-time singletons: every app is built from its own settings."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from api.errors import register_exception_handlers
from api.routers import health
from api.state import AppState
from data.db import create_db_engine
from data.migrate import ensure_migrated
from services.config import Settings
from services.index import IndexService

logger = logging.getLogger(__name__)

API_PREFIX = "/api/v1"


def build_state(settings: Settings) -> AppState:
    """Connect, refuse an un-migrated database, and load (or rebuild) the index."""
    engine = create_db_engine(settings.resolved_database_url)
    ensure_migrated(engine)
    index = IndexService.from_settings(settings)
    index.start(engine)
    return AppState(settings=settings, engine=engine, index=index)


def create_app(settings: Settings | None = None, state: AppState | None = None) -> FastAPI:
    settings = settings or (state.settings if state else Settings())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.techmatch = state or build_state(settings)
        yield
        app.state.techmatch.index.close()

    app = FastAPI(
        title="TechMatch",
        version="0.1.0",
        description="技术转移撮合引擎 — technology-transfer marketplace matching engine",
        lifespan=lifespan,
        openapi_url="/openapi.json",
        docs_url="/docs",
    )
    register_exception_handlers(app)
    app.include_router(health.router, prefix=API_PREFIX)
    return app
