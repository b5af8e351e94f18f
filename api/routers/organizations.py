"""Organisations (admins create them) and their API keys (managed by the organisation's own users)."""

from __future__ import annotations

from fastapi import APIRouter, status

from api.deps import ActorDep, AdminDep, DbDep
from api.routers.common import Id, Limit, Offset, Page
from models import OrgKind
from models.schemas import OrganizationCreate
from services import accounts
from services.accounts import ApiKeyCreate, ApiKeyIssued, ApiKeyRead, OrganizationRead

router = APIRouter(prefix="/organizations", tags=["organizations"])


@router.post("", status_code=status.HTTP_201_CREATED)
def create_organization(data: OrganizationCreate, actor: AdminDep, db: DbDep) -> OrganizationRead:
    """Register an organisation (admin)."""
    return accounts.create_organization(db, actor, data)


@router.get("")
def list_organizations(
    _: ActorDep, db: DbDep, kind: OrgKind | None = None, offset: Offset = 0, limit: Limit = 50
) -> Page[OrganizationRead]:
    """Member organisations (any signed-in caller)."""
    items, total = accounts.list_organizations(db, kind=kind, offset=offset, limit=limit)
    return Page[OrganizationRead](items=items, total=total, offset=offset, limit=limit)


@router.get("/{org_id}")
def read_organization(org_id: Id, _: ActorDep, db: DbDep) -> OrganizationRead:
    """One organisation."""
    return accounts.get_organization(db, org_id)


@router.post("/{org_id}/api-keys", status_code=status.HTTP_201_CREATED)
def create_api_key(org_id: Id, data: ApiKeyCreate, actor: ActorDep, db: DbDep) -> ApiKeyIssued:
    """Issue an API key for the organisation; the full key is in this response only."""
    return accounts.create_api_key(db, actor, org_id, data)


@router.get("/{org_id}/api-keys")
def list_api_keys(org_id: Id, actor: ActorDep, db: DbDep) -> list[ApiKeyRead]:
    """The organisation's keys (prefixes only, never the secret)."""
    return accounts.list_api_keys(db, actor, org_id)


@router.delete("/{org_id}/api-keys/{key_id}")
def revoke_api_key(org_id: Id, key_id: Id, actor: ActorDep, db: DbDep) -> ApiKeyRead:
    """Revoke a key at once; revoking twice is harmless."""
    return accounts.revoke_api_key(db, actor, org_id, key_id)
