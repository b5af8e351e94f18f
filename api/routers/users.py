"""Users and broker profiles (admin)."""

from __future__ import annotations

from fastapi import APIRouter, status

from api.deps import AdminDep, DbDep
from api.routers.common import Limit, Offset, OrgParam, Page
from models.schemas import BrokerCreate, UserCreate
from services import accounts
from services.accounts import BrokerRead, UserRead

router = APIRouter(tags=["users"])


@router.post("/users", status_code=status.HTTP_201_CREATED)
def create_user(data: UserCreate, actor: AdminDep, db: DbDep) -> UserRead:
    """Create a user of an organisation with one role (admin)."""
    return accounts.create_user(db, actor, data)


@router.get("/users")
def list_users(
    actor: AdminDep, db: DbDep, org_id: OrgParam = None, offset: Offset = 0, limit: Limit = 50
) -> Page[UserRead]:
    """Users, optionally of one organisation (admin)."""
    items, total = accounts.list_users(db, actor, org_id=org_id, offset=offset, limit=limit)
    return Page[UserRead](items=items, total=total, offset=offset, limit=limit)


@router.post("/brokers", status_code=status.HTTP_201_CREATED)
def create_broker(data: BrokerCreate, actor: AdminDep, db: DbDep) -> BrokerRead:
    """Give a broker user fields, regions and a review capacity (admin)."""
    return accounts.create_broker(db, actor, data)


@router.get("/brokers")
def list_brokers(actor: AdminDep, db: DbDep) -> list[BrokerRead]:
    """Broker profiles (admin)."""
    return accounts.list_brokers(db, actor)
