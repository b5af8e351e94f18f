"""Registries behind the "1242" goals (broker certification and training, member units, technology-
transfer institutions, influential achievements) and targets of three kinds that can be retired.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 23:41:06.922883
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.types

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "transfer_institutions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "技术集成与经营",
                "技术经纪",
                "技术投融资服务",
                "区域综合性",
                "行业专业性",
                "高校技术转移机构",
                "研发机构",
                name="institutionkind",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column(
            "origin",
            sa.Enum("introduced", "cultivated", name="institutionorigin", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("since", sa.Date(), nullable=False),
        sa.Column(
            "recognition",
            sa.Enum("无", "省级示范机构", "国家级示范机构", name="recognition", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("recognized_year", sa.Integer(), nullable=True),
        sa.Column("created_at", models.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("org_id"),
    )
    op.create_table(
        "influential_flags",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("achievement_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("flagged_by", sa.Integer(), nullable=True),
        sa.Column("created_at", models.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["achievement_id"],
            ["achievements.id"],
        ),
        sa.ForeignKeyConstraint(
            ["flagged_by"],
            ["users.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("achievement_id"),
    )
    op.create_table(
        "memberships",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column(
            "tier",
            sa.Enum("会员单位", "理事单位", "常务理事单位", name="membertier", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum("applied", "approved", "rejected", name="membershipstatus", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("applied_on", sa.Date(), nullable=False),
        sa.Column("reviewed_on", sa.Date(), nullable=True),
        sa.Column("reviewed_by", sa.Integer(), nullable=True),
        sa.Column("review_note", sa.String(length=500), nullable=True),
        sa.Column("term_start", sa.Date(), nullable=True),
        sa.Column("term_end", sa.Date(), nullable=True),
        sa.Column("created_at", models.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
        ),
        sa.ForeignKeyConstraint(
            ["reviewed_by"],
            ["users.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("memberships", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_memberships_org_id"), ["org_id"], unique=False)

    op.create_table(
        "broker_trainings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("broker_id", sa.Integer(), nullable=False),
        sa.Column("course", sa.String(length=200), nullable=False),
        sa.Column("hours", sa.Integer(), nullable=False),
        sa.Column("completed_on", sa.Date(), nullable=False),
        sa.Column("created_at", models.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["broker_id"],
            ["brokers.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("broker_trainings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_broker_trainings_broker_id"), ["broker_id"], unique=False)

    with op.batch_alter_table("brokers", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "certification_level",
                sa.Enum("初级", "中级", "高级", name="certificationlevel", native_enum=False, length=32),
                nullable=True,
            )
        )
        batch_op.add_column(sa.Column("certificate_number", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("certificate_issuer", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("certified_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("title_track", sa.String(length=64), nullable=True))
        batch_op.add_column(
            sa.Column(
                "status",
                sa.Enum("active", "suspended", "expired", name="brokerstatus", native_enum=False, length=32),
                nullable=False,
                server_default="active",
            )
        )

    with op.batch_alter_table("targets", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "kind",
                sa.Enum(
                    "absolute",
                    "baseline_multiple",
                    "relative_growth",
                    name="targetkind",
                    native_enum=False,
                    length=32,
                ),
                nullable=False,
                server_default="absolute",
            )
        )
        batch_op.add_column(sa.Column("comparator", sa.String(length=2), nullable=False, server_default="ge"))
        batch_op.add_column(sa.Column("factor", sa.Numeric(precision=12, scale=8), nullable=True))
        batch_op.add_column(sa.Column("baseline_year", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("reference_region_code", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("quote", sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column("retired_at", models.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.alter_column("value", existing_type=sa.NUMERIC(precision=16, scale=2), nullable=True)


def downgrade() -> None:
    with op.batch_alter_table("targets", schema=None) as batch_op:
        batch_op.alter_column("value", existing_type=sa.NUMERIC(precision=16, scale=2), nullable=False)
        batch_op.drop_column("retired_at")
        batch_op.drop_column("quote")
        batch_op.drop_column("reference_region_code")
        batch_op.drop_column("baseline_year")
        batch_op.drop_column("factor")
        batch_op.drop_column("comparator")
        batch_op.drop_column("kind")

    with op.batch_alter_table("brokers", schema=None) as batch_op:
        batch_op.drop_column("status")
        batch_op.drop_column("title_track")
        batch_op.drop_column("certified_on")
        batch_op.drop_column("certificate_issuer")
        batch_op.drop_column("certificate_number")
        batch_op.drop_column("certification_level")

    with op.batch_alter_table("broker_trainings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_broker_trainings_broker_id"))

    op.drop_table("broker_trainings")
    with op.batch_alter_table("memberships", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_memberships_org_id"))

    op.drop_table("memberships")
    op.drop_table("influential_flags")
    op.drop_table("transfer_institutions")
