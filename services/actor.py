"""Who is acting. Every service call that reads or changes owned data takes an `Actor`."""

from __future__ import annotations

from dataclasses import dataclass

from models.enums import Role
from services.errors import PermissionDeniedError


@dataclass(frozen=True)
class Actor:
    user_id: int | None
    org_id: int | None
    role: Role
    broker_id: int | None = None
    via_api_key: bool = False  # authenticated by an organisation API key rather than a person's sign-in

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    def require(self, *roles: Role) -> None:
        """Allow admins and the given roles; refuse everyone else."""
        if not self.is_admin and self.role not in roles:
            allowed = ", ".join(r.value for r in roles) or "admin"
            raise PermissionDeniedError(f"this action needs one of the roles: admin, {allowed}")


SYSTEM = Actor(user_id=None, org_id=None, role=Role.ADMIN)
"""The CLI and background jobs act as the system administrator."""
