"""Sign-in (OAuth2 password flow) and "who am I"."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.concurrency import run_in_threadpool
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel

from api import auth
from api.deps import ActorDep, StateDep
from models import Role

router = APIRouter(prefix="/auth", tags=["auth"])


class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int


class Me(BaseModel):
    user_id: int | None
    org_id: int | None
    role: Role
    broker_id: int | None


@router.post("/token")
async def issue_token(form: Annotated[OAuth2PasswordRequestForm, Depends()], state: StateDep) -> Token:
    """Exchange a username and password for a signed access token (send it as `Authorization: Bearer`)."""
    token, seconds = await run_in_threadpool(
        auth.login, state.engine, state.settings, form.username, form.password
    )
    return Token(access_token=token, expires_in=seconds)


@router.get("/me")
def who_am_i(actor: ActorDep) -> Me:
    """The caller as the API sees them: user, organisation, role, broker profile."""
    return Me(user_id=actor.user_id, org_id=actor.org_id, role=actor.role, broker_id=actor.broker_id)
