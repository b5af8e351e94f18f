"""Request dependencies shared by the routers and the web console: app state, the acting user, roles."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, OAuth2PasswordBearer
from sqlalchemy.engine import Engine

from api.auth import resolve_actor
from api.state import AppState
from models import Role
from services.actor import Actor
from services.config import Settings
from services.index import IndexService

API_PREFIX = "/api/v1"
TOKEN_URL = f"{API_PREFIX}/auth/token"

bearer_scheme = OAuth2PasswordBearer(tokenUrl=TOKEN_URL, auto_error=False)
api_key_scheme = APIKeyHeader(name="X-API-Key", auto_error=False)


def get_state(request: Request) -> AppState:
    state: AppState = request.app.state.techmatch
    return state


StateDep = Annotated[AppState, Depends(get_state)]


def get_db(state: StateDep) -> Engine:
    return state.engine


def get_index(state: StateDep) -> IndexService:
    return state.index


def get_settings(state: StateDep) -> Settings:
    return state.settings


DbDep = Annotated[Engine, Depends(get_db)]
IndexDep = Annotated[IndexService, Depends(get_index)]
SettingsDep = Annotated[Settings, Depends(get_settings)]


def get_actor(
    state: StateDep,
    token: Annotated[str | None, Depends(bearer_scheme)],
    api_key: Annotated[str | None, Depends(api_key_scheme)],
) -> Actor:
    """The caller, from a bearer token or an X-API-Key header; 401 without valid credentials."""
    return resolve_actor(state.engine, state.settings, token=token, api_key=api_key)


ActorDep = Annotated[Actor, Depends(get_actor)]


def require_roles(*roles: Role) -> Callable[[Actor], Actor]:
    """A dependency that lets admins and the given roles through (403 for others)."""

    def dependency(actor: ActorDep) -> Actor:
        actor.require(*roles)
        return actor

    return dependency


AdminDep = Annotated[Actor, Depends(require_roles())]
