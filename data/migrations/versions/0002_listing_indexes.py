"""Indexes for listing postings newest first (the default sort of GET /needs and /achievements).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_needs_created_at_id", "needs", ["created_at", "id"])
    op.create_index("ix_achievements_created_at_id", "achievements", ["created_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_achievements_created_at_id", table_name="achievements")
    op.drop_index("ix_needs_created_at_id", table_name="needs")
