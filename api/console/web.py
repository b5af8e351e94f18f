"""The console's plumbing: templates (autoescape on), the signed session cookie, CSRF, and one route class
that turns service errors into HTML pages instead of the API's JSON."""

from __future__ import annotations

import hmac
import logging
import secrets
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

import jinja2
import jwt
from fastapi import Depends, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates
from sqlalchemy.engine import Engine
from sqlmodel import Session
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.console import labels
from api.errors import error_response
from api.state import AppState
from models import Role, User
from models.transitions import InvalidTransitionError
from services import accounts
from services.actor import Actor
from services.errors import ServiceError

logger = logging.getLogger(__name__)

PREFIX = "/console"
SESSION_COOKIE = "tm_console"
LOGIN_COOKIE = "tm_console_login"
AUDIENCE = "techmatch-console"
HERE = Path(__file__).parent
TEMPLATES_DIR = HERE / "templates"
STATIC_DIR = HERE / "static"
CHART_BUNDLE = Path("vendor/node_modules/chart.js/dist/chart.umd.min.js")
PUBLIC_ACTOR = Actor(user_id=None, org_id=None, role=Role.ENTERPRISE)
"""Anonymous visitors of the public halls: no org, so every confidential field stays masked."""

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


class LoginRequiredError(Exception):
    """No valid session: the route class redirects to the login page."""


class CsrfError(Exception):
    """A form came without the session's CSRF token."""


@dataclass(frozen=True)
class ConsoleUser:
    """The signed-in person: the service-layer `Actor` plus what the page header shows."""

    actor: Actor
    username: str
    display_name: str
    csrf: str

    @property
    def role(self) -> Role:
        return self.actor.role


def app_state(request: Request) -> AppState:
    state: AppState = request.app.state.techmatch
    return state


def db_engine(request: Request) -> Engine:
    return app_state(request).engine


# -- templates ------------------------------------------------------------------------------------


@cache
def templates() -> Jinja2Templates:
    """One environment, autoescape on for every template whatever its file name."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    labels.install(env)
    env.globals["static"] = static_url
    return Jinja2Templates(env=env)


def static_url(path: str) -> str:
    return f"{PREFIX}/static/{quote(path)}"


def chart_library_url() -> str | None:
    """The installed Chart.js bundle, or None (pages then show only their tables)."""
    return static_url(CHART_BUNDLE.as_posix()) if (STATIC_DIR / CHART_BUNDLE).is_file() else None


def render(
    request: Request, name: str, context: dict[str, Any] | None = None, *, status_code: int = 200
) -> HTMLResponse:
    user = optional_user(request)
    flash = labels.FLASH.get(request.query_params.get("msg", ""))
    base = {"user": user, "csrf_token": user.csrf if user else "", "path": request.url.path, "flash": flash}
    response: HTMLResponse = templates().TemplateResponse(
        request, name, {**base, **(context or {})}, status_code=status_code
    )
    return response


# -- session cookie -------------------------------------------------------------------------------


def issue_session(request: Request, user_id: int) -> str:
    settings = app_state(request).settings
    now = datetime.now(UTC)
    payload = {
        "sub": str(user_id),
        "aud": AUDIENCE,
        "csrf": secrets.token_urlsafe(24),
        "iat": now,
        "exp": now + timedelta(minutes=settings.token_minutes),
    }
    return jwt.encode(payload, settings.secret_key, algorithm="HS256")


def _decode(request: Request, token: str) -> dict[str, Any] | None:
    try:
        data: dict[str, Any] = jwt.decode(
            token, app_state(request).settings.secret_key, algorithms=["HS256"], audience=AUDIENCE
        )
    except jwt.PyJWTError:
        return None
    return data


def set_session_cookie(request: Request, response: Response, token: str) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=app_state(request).settings.token_minutes * 60,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path=PREFIX,
    )


def _load_user(request: Request) -> ConsoleUser | None:
    token = request.cookies.get(SESSION_COOKIE)
    claims = _decode(request, token) if token else None
    if claims is None or not str(claims.get("sub", "")).isdigit():
        return None
    db = db_engine(request)
    actor = accounts.actor_for_user(db, int(claims["sub"]))
    if actor is None:
        return None
    with Session(db) as session:
        user = session.get(User, actor.user_id)
        if user is None:
            return None
        return ConsoleUser(
            actor=actor,
            username=user.username,
            display_name=user.display_name,
            csrf=str(claims.get("csrf", "")),
        )


def optional_user(request: Request) -> ConsoleUser | None:
    """The signed-in user (checked against the database on every request), or None."""
    if "console_user" not in request.scope:
        request.scope["console_user"] = _load_user(request)
    user: ConsoleUser | None = request.scope["console_user"]
    return user


def current_user(request: Request) -> ConsoleUser:
    user = optional_user(request)
    if user is None:
        raise LoginRequiredError
    return user


def require(*roles: Role) -> Callable[[Request], ConsoleUser]:
    """A dependency: the signed-in user, refused (403) unless admin or one of ``roles`` (Actor.require)."""

    def dependency(request: Request) -> ConsoleUser:
        user = current_user(request)
        user.actor.require(*roles)
        return user

    return dependency


async def csrf_checked(request: Request) -> ConsoleUser:
    """For state-changing requests: the session user, whose CSRF token the form or header repeats."""
    user = await run_in_threadpool(current_user, request)  # a database read: off the event loop
    sent = request.headers.get("x-csrf-token")
    if sent is None:
        form = await request.form()
        value = form.get("csrf_token")
        sent = value if isinstance(value, str) else None
    if not sent or not user.csrf or not hmac.compare_digest(sent, user.csrf):
        raise CsrfError
    return user


UserDep = Annotated[ConsoleUser, Depends(current_user)]
OptionalUserDep = Annotated[ConsoleUser | None, Depends(optional_user)]
CsrfUserDep = Annotated[ConsoleUser, Depends(csrf_checked)]


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


# -- errors as pages ------------------------------------------------------------------------------


def error_page(request: Request, status: int, message: str) -> HTMLResponse:
    return render(request, "error.html", {"status": status, "message": message}, status_code=status)


def _wants_json(request: Request) -> bool:
    """Script calls (the hall's poll, job start and progress) get the API's JSON errors, not pages."""
    path = request.url.path
    return (
        path.endswith(".json")
        or path.startswith(f"{PREFIX}/admin/jobs/")
        or "x-csrf-token" in request.headers
    )


def _json_for(exc: Exception) -> Response:
    if isinstance(exc, LoginRequiredError):
        return error_response(401, "unauthorized", "sign in to the console first")
    if isinstance(exc, CsrfError):
        return error_response(403, "csrf_failed", "missing or wrong CSRF token")
    if isinstance(exc, ServiceError):
        return error_response(exc.status, exc.code, exc.message)
    if isinstance(exc, InvalidTransitionError):
        return error_response(409, "invalid_transition", str(exc))
    if isinstance(exc, RequestValidationError):
        return error_response(422, "validation_error", labels.validation_message(list(exc.errors())))
    if isinstance(exc, StarletteHTTPException):
        return error_response(exc.status_code, "error", str(exc.detail))
    raise exc


def _page_for(request: Request, exc: Exception) -> Response:
    if _wants_json(request):
        return _json_for(exc)
    if isinstance(exc, LoginRequiredError):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return redirect(f"{PREFIX}/login?next={quote(target)}")
    if isinstance(exc, CsrfError):
        return error_page(request, 403, "表单已过期或来源不明（CSRF 校验失败），请刷新页面后重试。")
    if isinstance(exc, ServiceError):
        return error_page(request, exc.status, labels.service_error(exc.code, exc.message))
    if isinstance(exc, InvalidTransitionError):
        return error_page(request, 409, "当前状态不允许此操作（可能已被他人处理），请刷新后重试。")
    if isinstance(exc, RequestValidationError):
        return error_page(request, 422, labels.validation_message(list(exc.errors())))
    if isinstance(exc, StarletteHTTPException):
        return error_page(request, exc.status_code, labels.http_message(exc.status_code))
    raise exc


class ConsoleRoute(APIRoute):
    """Renders login redirects, permission refusals and service errors as pages; adds security headers."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        original = super().get_route_handler()

        async def handler(request: Request) -> Response:
            try:
                response = await original(request)
            except (
                LoginRequiredError,
                CsrfError,
                ServiceError,
                InvalidTransitionError,
                RequestValidationError,
                StarletteHTTPException,
            ) as exc:
                response = _page_for(request, exc)
            for name, value in SECURITY_HEADERS.items():
                response.headers.setdefault(name, value)
            return response

        return handler
