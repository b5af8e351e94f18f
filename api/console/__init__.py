"""The web console (控制台): server-rendered Chinese pages for brokers, administrators and the public
halls, served by the same application under /console."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles

from api.console import (
    jobs,
    pages_admin,
    pages_auth,
    pages_broker,
    pages_calls,
    pages_contracts,
    pages_hall,
    pages_manage,
    pages_registry,
)
from api.console.web import PREFIX, STATIC_DIR

__all__ = ["PREFIX", "mount_console", "router"]

router = APIRouter(include_in_schema=False)
router.include_router(pages_auth.router)
router.include_router(pages_broker.router)
router.include_router(pages_hall.router)
router.include_router(pages_calls.router)
router.include_router(pages_admin.router)
router.include_router(pages_manage.router)
router.include_router(pages_registry.router)
router.include_router(pages_contracts.router)
router.include_router(jobs.router)


def _to_home() -> RedirectResponse:
    return RedirectResponse(f"{PREFIX}/", status_code=307)


def mount_console(app: FastAPI) -> None:
    """Add the console's pages and its static files (CSS, JS, the vendored chart library)."""
    app.include_router(router, prefix=PREFIX)
    app.add_api_route(PREFIX, _to_home, include_in_schema=False)
    app.mount(f"{PREFIX}/static", StaticFiles(directory=STATIC_DIR), name="console_static")
