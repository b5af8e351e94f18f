"""Organisations, users, brokers and API keys; who a credential belongs to.

Passwords are hashed with Argon2id (slow on purpose: they are guessable). API keys are 256-bit random
secrets, so a fast SHA-256 of the whole key is safe to store and cheap to check on every request; a
short public prefix finds the row without scanning.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime
from functools import cache
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from data.db import session_scope
from data.reference import is_known_region
from models import ApiKey, Broker, Organization, OrgKind, Role, User
from models.schemas import BrokerCreate, OrganizationCreate, UserCreate
from models.types import utc_now
from services import audit
from services.actor import Actor
from services.errors import ConflictError, InvalidInputError, NotFoundError, PermissionDeniedError
from services.passwords import hash_password, verify_password

KEY_PREFIX = "tm_"
_PREFIX_HEX = 6  # bytes → 12 hex characters after "tm_"

ROLE_ORG_KINDS: dict[Role, frozenset[OrgKind]] = {
    Role.ENTERPRISE: frozenset({OrgKind.ENTERPRISE}),
    Role.INSTITUTION: frozenset({OrgKind.UNIVERSITY, OrgKind.INSTITUTE, OrgKind.NEW_RD_INSTITUTION}),
    Role.BROKER: frozenset({OrgKind.TT_AGENCY, OrgKind.SUB_CENTER}),
    Role.REGISTRAR: frozenset({OrgKind.REGISTRATION_AGENCY}),
    Role.ADMIN: frozenset({OrgKind.TT_AGENCY, OrgKind.SUB_CENTER}),
}
"""Which kind of organisation a user of each role may belong to."""

KEY_ROLE_BY_KIND: dict[OrgKind, Role] = {
    OrgKind.ENTERPRISE: Role.ENTERPRISE,
    OrgKind.UNIVERSITY: Role.INSTITUTION,
    OrgKind.INSTITUTE: Role.INSTITUTION,
    OrgKind.NEW_RD_INSTITUTION: Role.INSTITUTION,
    OrgKind.REGISTRATION_AGENCY: Role.REGISTRAR,
}
"""The role a machine client of an organisation acts with (agencies get no keys: people review)."""

KEY_MANAGER_ROLES = frozenset({Role.ENTERPRISE, Role.INSTITUTION, Role.REGISTRAR})


class ReadModel(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class OrganizationRead(ReadModel):
    id: int
    external_id: str | None
    name: str
    kind: OrgKind
    uscc: str
    region_code: str
    tags: list[str]
    is_member: bool
    created_at: datetime


class UserRead(ReadModel):
    id: int
    username: str
    display_name: str
    role: Role
    org_id: int
    is_active: bool
    created_at: datetime


class BrokerRead(ReadModel):
    id: int
    user_id: int
    org_id: int
    field_codes: list[str]
    region_codes: list[str]
    capacity: int
    active: bool


class ApiKeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    name: Annotated[str, Field(min_length=1, max_length=100)]


class ApiKeyRead(ReadModel):
    id: int
    org_id: int
    name: str
    prefix: str
    role: Role
    created_by: int
    created_at: datetime
    revoked_at: datetime | None


class ApiKeyIssued(ApiKeyRead):
    key: str = Field(description="the full key; shown only in this response, store it now")


# -- organisations and users -------------------------------------------------------------------


def create_organization(db: Engine, actor: Actor, data: OrganizationCreate) -> OrganizationRead:
    actor.require()
    if not is_known_region(data.region_code):
        raise InvalidInputError(f"unknown region code {data.region_code!r}", code="unknown_region_code")
    with session_scope(db) as session:
        if session.exec(select(Organization.id).where(Organization.uscc == data.uscc)).first():
            raise ConflictError(f"an organisation with USCC {data.uscc} exists", code="duplicate_uscc")
        if (
            data.external_id
            and session.exec(
                select(Organization.id).where(Organization.external_id == data.external_id)
            ).first()
        ):
            raise ConflictError(f"external_id {data.external_id!r} is taken", code="duplicate_external_id")
        org = Organization(**data.model_dump())
        session.add(org)
        session.flush()
        audit.record(session, actor, "organization", org.id or 0, "create", after=audit.snapshot(org))
        return OrganizationRead.model_validate(org)


def list_organizations(
    db: Engine, *, kind: OrgKind | None = None, offset: int = 0, limit: int = 50
) -> tuple[list[OrganizationRead], int]:
    """Names, kinds and regions of member organisations are public within the marketplace."""
    where = [Organization.kind == kind] if kind else []
    with Session(db) as session:
        total = session.exec(select(func.count()).select_from(Organization).where(*where)).one()
        rows = session.exec(
            select(Organization).where(*where).order_by(col(Organization.id)).offset(offset).limit(limit)
        ).all()
        return [OrganizationRead.model_validate(r) for r in rows], int(total)


def get_organization(db: Engine, org_id: int) -> OrganizationRead:
    with Session(db) as session:
        return OrganizationRead.model_validate(_org(session, org_id))


def _org(session: Session, org_id: int) -> Organization:
    org = session.get(Organization, org_id)
    if org is None:
        raise NotFoundError(f"organisation {org_id} not found")
    return org


def create_user(db: Engine, actor: Actor, data: UserCreate) -> UserRead:
    actor.require()
    with session_scope(db) as session:
        org = _org(session, data.org_id)
        if org.kind not in ROLE_ORG_KINDS[data.role]:
            raise InvalidInputError(
                f"a {data.role.value} user cannot belong to an organisation of kind {org.kind.value!r}",
                code="role_org_mismatch",
            )
        if session.exec(select(User.id).where(User.username == data.username)).first():
            raise ConflictError(f"username {data.username!r} is taken", code="duplicate_username")
        user = User(
            username=data.username,
            display_name=data.display_name,
            role=data.role,
            org_id=data.org_id,
            password_hash=hash_password(data.password),
        )
        session.add(user)
        session.flush()
        audit.record(session, actor, "user", user.id or 0, "create", after=audit.snapshot(user, _USER_AUDIT))
        return UserRead.model_validate(user)


_USER_AUDIT = ("id", "username", "display_name", "role", "org_id", "is_active")


def list_users(
    db: Engine, actor: Actor, *, org_id: int | None = None, offset: int = 0, limit: int = 50
) -> tuple[list[UserRead], int]:
    actor.require()
    where = [User.org_id == org_id] if org_id is not None else []
    with Session(db) as session:
        total = session.exec(select(func.count()).select_from(User).where(*where)).one()
        rows = session.exec(
            select(User).where(*where).order_by(col(User.id)).offset(offset).limit(limit)
        ).all()
        return [UserRead.model_validate(r) for r in rows], int(total)


def create_broker(db: Engine, actor: Actor, data: BrokerCreate) -> BrokerRead:
    """Give a broker user a review profile (skills and capacity) at their own agency."""
    actor.require()
    with session_scope(db) as session:
        user = session.get(User, data.user_id)
        if user is None:
            raise NotFoundError(f"user {data.user_id} not found")
        if user.role != Role.BROKER:
            raise InvalidInputError(
                "only a user with role broker can have a broker profile", code="not_a_broker"
            )
        if session.exec(select(Broker.id).where(Broker.user_id == user.id)).first():
            raise ConflictError(f"user {user.id} already has a broker profile", code="duplicate_broker")
        broker = Broker(org_id=user.org_id, **data.model_dump())
        session.add(broker)
        session.flush()
        audit.record(session, actor, "broker", broker.id or 0, "create", after=audit.snapshot(broker))
        return BrokerRead.model_validate(broker)


def list_brokers(db: Engine, actor: Actor) -> list[BrokerRead]:
    actor.require()
    with Session(db) as session:
        return [
            BrokerRead.model_validate(b) for b in session.exec(select(Broker).order_by(col(Broker.id))).all()
        ]


# -- authentication ---------------------------------------------------------------------------


def authenticate(db: Engine, username: str, password: str) -> User | None:
    """The active user with these credentials, or None (same answer for every kind of failure)."""
    with Session(db) as session:
        user = session.exec(select(User).where(User.username == username)).first()
    if user is None:
        verify_password(_dummy_hash(), password)  # spend the same time as for a real user
        return None
    if not verify_password(user.password_hash, password) or not user.is_active:
        return None
    return user


@cache
def _dummy_hash() -> str:
    return hash_password("timing-equaliser-not-a-password")


def actor_for_user(db: Engine, user_id: int) -> Actor | None:
    """The actor of an active user (with their broker profile, if any)."""
    with Session(db) as session:
        user = session.get(User, user_id)
        if user is None or not user.is_active:
            return None
        broker_id = None
        if user.role == Role.BROKER:
            broker_id = session.exec(select(Broker.id).where(Broker.user_id == user_id)).first()
        return Actor(user_id=user.id, org_id=user.org_id, role=user.role, broker_id=broker_id)


def actor_for_api_key(db: Engine, key: str) -> Actor | None:
    """The actor behind an unrevoked API key whose owner is still active, or None."""
    prefix = key[: len(KEY_PREFIX) + 2 * _PREFIX_HEX]
    if not key.startswith(KEY_PREFIX) or len(key) < len(prefix) + 10:
        return None
    with Session(db) as session:
        row = session.exec(select(ApiKey).where(ApiKey.prefix == prefix)).first()
        if row is None or row.revoked_at is not None or not hmac.compare_digest(row.key_hash, _digest(key)):
            return None
        creator = session.get(User, row.created_by)
        if creator is None or not creator.is_active:
            return None
        return Actor(user_id=row.created_by, org_id=row.org_id, role=row.role, via_api_key=True)


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


# -- API keys ---------------------------------------------------------------------------------


def _require_key_manager(actor: Actor, org_id: int) -> None:
    """A signed-in person of the organisation (or an admin). Never an API key: a key that could mint
    keys would outlive its own revocation through its children."""
    if actor.via_api_key:
        raise PermissionDeniedError("API 密钥不能管理 API 密钥，请以用户身份登录", code="api_key_not_allowed")
    if actor.is_admin:
        return
    if actor.org_id != org_id or actor.role not in KEY_MANAGER_ROLES:
        raise PermissionDeniedError("only the organisation's own users (or an admin) manage its API keys")


def create_api_key(db: Engine, actor: Actor, org_id: int, data: ApiKeyCreate) -> ApiKeyIssued:
    _require_key_manager(actor, org_id)
    if actor.user_id is None:
        raise PermissionDeniedError("an API key must be created by a person", code="user_required")
    with session_scope(db) as session:
        org = _org(session, org_id)
        role = KEY_ROLE_BY_KIND.get(org.kind)
        if role is None:
            raise InvalidInputError(
                f"organisations of kind {org.kind.value!r} do not get API keys", code="no_api_role"
            )
        prefix = KEY_PREFIX + secrets.token_hex(_PREFIX_HEX)
        key = f"{prefix}.{secrets.token_urlsafe(32)}"
        row = ApiKey(
            org_id=org_id,
            name=data.name,
            prefix=prefix,
            key_hash=_digest(key),
            role=role,
            created_by=actor.user_id,
        )
        session.add(row)
        session.flush()
        audit.record(
            session, actor, "api_key", row.id or 0, "create", after={"name": row.name, "prefix": prefix}
        )
        return ApiKeyIssued(**ApiKeyRead.model_validate(row).model_dump(), key=key)


def list_api_keys(db: Engine, actor: Actor, org_id: int) -> list[ApiKeyRead]:
    _require_key_manager(actor, org_id)
    with Session(db) as session:
        _org(session, org_id)
        rows = session.exec(select(ApiKey).where(ApiKey.org_id == org_id).order_by(col(ApiKey.id))).all()
        return [ApiKeyRead.model_validate(r) for r in rows]


def revoke_api_key(db: Engine, actor: Actor, org_id: int, key_id: int) -> ApiKeyRead:
    _require_key_manager(actor, org_id)
    with session_scope(db) as session:
        row = session.get(ApiKey, key_id)
        if row is None or row.org_id != org_id:
            raise NotFoundError(f"API key {key_id} not found for organisation {org_id}")
        if row.revoked_at is None:
            row.revoked_at = utc_now()
            session.add(row)
            audit.record(session, actor, "api_key", key_id, "revoke", after={"prefix": row.prefix})
        return ApiKeyRead.model_validate(row)
