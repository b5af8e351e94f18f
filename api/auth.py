"""Credentials → actor: signed access tokens (HS256 JWT, OAuth2 password flow) and organisation API keys.

A token carries only the user id; the role, organisation and broker profile are read from the
database on every request, so deactivating a user or changing their role takes effect at once.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt
from sqlalchemy.engine import Engine

from services import accounts
from services.actor import Actor
from services.config import Settings
from services.errors import ServiceError

ALGORITHM = "HS256"
_AUDIENCE = "techmatch-api"


class AuthenticationError(ServiceError):
    """No credentials, or credentials that do not identify an active user or key (HTTP 401)."""

    status = 401
    code = "not_authenticated"


def create_access_token(settings: Settings, user_id: int, *, now: datetime | None = None) -> tuple[str, int]:
    """A signed token for the user and its lifetime in seconds."""
    issued = now or datetime.now(UTC)
    lifetime = timedelta(minutes=settings.token_minutes)
    claims = {"sub": str(user_id), "iat": issued, "exp": issued + lifetime, "aud": _AUDIENCE}
    return jwt.encode(claims, settings.secret_key, algorithm=ALGORITHM), int(lifetime.total_seconds())


def decode_access_token(settings: Settings, token: str) -> int:
    """The user id in a valid token; `AuthenticationError` for an expired, forged or malformed one."""
    try:
        claims = jwt.decode(
            token,
            settings.secret_key,
            algorithms=[ALGORITHM],
            audience=_AUDIENCE,
            options={"require": ["exp", "sub", "aud"]},
        )
        return int(claims["sub"])
    except jwt.ExpiredSignatureError as exc:
        raise AuthenticationError("the access token has expired", code="token_expired") from exc
    except (jwt.InvalidTokenError, ValueError, TypeError) as exc:
        raise AuthenticationError("the access token is invalid", code="invalid_token") from exc


def resolve_actor(db: Engine, settings: Settings, *, token: str | None, api_key: str | None) -> Actor:
    """Who is calling. A bearer token wins over an API key when both are sent."""
    if token:
        actor = accounts.actor_for_user(db, decode_access_token(settings, token))
        if actor is None:
            raise AuthenticationError(
                "the token's user no longer exists or is inactive", code="invalid_token"
            )
        return actor
    if api_key:
        actor = accounts.actor_for_api_key(db, api_key)
        if actor is None:
            raise AuthenticationError("the API key is unknown or revoked", code="invalid_api_key")
        return actor
    raise AuthenticationError("sign in (Authorization: Bearer …) or send an X-API-Key header")


def login(db: Engine, settings: Settings, username: str, password: str) -> tuple[str, int]:
    """Check a password and issue a token."""
    user = accounts.authenticate(db, username, password)
    if user is None or user.id is None:
        raise AuthenticationError("wrong username or password", code="invalid_credentials")
    return create_access_token(settings, user.id)
