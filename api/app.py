"""FastAPI application factory. No import-time singletons: every app is built from its own settings."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from api.console import mount_console
from api.deps import API_PREFIX
from api.errors import ERROR_RESPONSES, register_exception_handlers
from api.middleware import BodySizeLimitMiddleware
from api.routers import (
    achievements,
    admin,
    auth,
    calls,
    contracts,
    exports,
    health,
    matches,
    matching,
    needs,
    organizations,
    reference,
    registries,
    scenes,
    scoreboard,
    stats,
    subsidies,
    targets,
    users,
)
from api.state import AppState
from data.db import create_db_engine
from data.migrate import ensure_migrated
from services.background import start_background
from services.config import Settings
from services.index import IndexService

logger = logging.getLogger(__name__)

ROUTERS = (
    health.router,
    auth.router,
    organizations.router,
    users.router,
    needs.router,
    achievements.router,
    matching.router,
    matches.router,
    calls.router,
    calls.stats_router,
    scenes.router,
    contracts.router,
    stats.router,
    targets.router,
    scoreboard.router,
    registries.router,
    subsidies.router,
    exports.router,
    reference.router,
    admin.router,
)

__all__ = ["API_PREFIX", "app_from_environment", "build_state", "create_app"]


def build_state(settings: Settings) -> AppState:
    """Connect, refuse an un-migrated database, and load (or rebuild) the index."""
    engine = create_db_engine(settings.resolved_database_url)
    ensure_migrated(engine)
    index = IndexService.from_settings(settings)
    index.start(engine)
    return AppState(settings=settings, engine=engine, index=index)


def create_app(settings: Settings | None = None, state: AppState | None = None) -> FastAPI:
    settings = settings or (state.settings if state else Settings())
    settings.check_secret()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        running = app.state.techmatch = state or build_state(settings)
        background = start_background(
            running.settings, running.engine, running.index, run_jobs=running.settings.jobs_in_process
        )
        yield
        background.stop()
        running.index.close()

    app = FastAPI(
        title="TechMatch",
        version="0.1.0",
        description="技术转移撮合引擎 — technology-transfer marketplace matching engine",
        lifespan=lifespan,
        openapi_url="/openapi.json",
        docs_url="/docs",
    )
    register_exception_handlers(app)
    app.add_middleware(BodySizeLimitMiddleware, max_body_bytes=settings.max_body_bytes)
    for router in ROUTERS:
        app.include_router(router, prefix=API_PREFIX, responses=ERROR_RESPONSES)
    mount_console(app)
    return app


def app_from_environment() -> FastAPI:
    """The app of one worker process of `techmatch serve --workers N` (settings from TECHMATCH_*)."""
    return create_app(Settings())
