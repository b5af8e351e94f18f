"""Sign-in and sign-out. The session is a signed JWT in an HttpOnly, SameSite=Lax cookie; the login
form itself carries a one-off token (double-submit cookie) so another site cannot log a visitor in."""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from api.console.web import (
    LOGIN_COOKIE,
    PREFIX,
    SESSION_COOKIE,
    ConsoleRoute,
    CsrfUserDep,
    OptionalUserDep,
    db_engine,
    issue_session,
    redirect,
    render,
    set_session_cookie,
)
from models import Role
from services import accounts

router = APIRouter(route_class=ConsoleRoute)

HOME_BY_ROLE = {Role.ADMIN: f"{PREFIX}/admin", Role.BROKER: f"{PREFIX}/broker"}


def home_for(role: Role | None) -> str:
    return HOME_BY_ROLE.get(role, f"{PREFIX}/hall") if role else f"{PREFIX}/hall"


def safe_next(value: str | None) -> str | None:
    """Only a console path of this site; never another host (``//evil``) or a scheme."""
    if value and value.startswith(f"{PREFIX}/") and not value.startswith("//") and "\\" not in value:
        return value
    return None


@router.get("/", include_in_schema=False)
def console_home(user: OptionalUserDep) -> RedirectResponse:
    return redirect(home_for(user.role if user else None))


def _login_page(request: Request, *, next_url: str, username: str = "", error: str | None = None) -> Response:
    token = secrets.token_urlsafe(24)
    context = {"login_csrf": token, "next_url": next_url, "username": username, "error": error}
    response = render(request, "login.html", context, status_code=401 if error else 200)
    response.set_cookie(LOGIN_COOKIE, token, max_age=1800, httponly=True, samesite="lax", path=PREFIX)
    return response


@router.get("/login", response_class=HTMLResponse, include_in_schema=False)
def login_form(request: Request, next: str | None = None) -> Response:
    return _login_page(request, next_url=safe_next(next) or "")


@router.post("/login", include_in_schema=False)
async def login_submit(
    request: Request,
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=128)],
    csrf_token: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "",
) -> Response:
    expected = request.cookies.get(LOGIN_COOKIE, "")
    if not expected or not hmac.compare_digest(expected, csrf_token):
        return _login_page(
            request, next_url=safe_next(next) or "", username=username, error="登录表单已过期，请重试。"
        )
    user = await run_in_threadpool(accounts.authenticate, db_engine(request), username.strip(), password)
    if user is None or user.id is None:
        return _login_page(
            request, next_url=safe_next(next) or "", username=username, error="用户名或密码错误。"
        )
    response = redirect(safe_next(next) or home_for(user.role))
    set_session_cookie(request, response, issue_session(request, user.id))
    response.delete_cookie(LOGIN_COOKIE, path=PREFIX)
    return response


@router.post("/logout", include_in_schema=False)
def logout(_: CsrfUserDep) -> Response:
    response = redirect(f"{PREFIX}/hall?msg=logout")
    response.delete_cookie(SESSION_COOKIE, path=PREFIX)
    return response
