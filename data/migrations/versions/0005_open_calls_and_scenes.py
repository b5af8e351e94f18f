"""揭榜挂帅 open calls and 场景 scenes: calls, milestones, applications, acceptances, invitations, scene
solutions, pilot agreements; the posting kind (and scene category) on needs and achievements; the call
a contract was awarded under.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.types

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "calls",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "form",
            sa.Enum("揭榜攻关", "赛马制", "揭榜转化", name="callform", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("owner_org_id", sa.Integer(), nullable=False),
        sa.Column("need_id", sa.Integer(), nullable=True),
        sa.Column("achievement_id", sa.Integer(), nullable=True),
        sa.Column("indicators", sa.JSON(), nullable=False),
        sa.Column("budget", sa.Numeric(precision=16, scale=2), nullable=False),
        sa.Column("application_deadline", models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("delivery_months", sa.Integer(), nullable=False),
        sa.Column("max_teams", sa.Integer(), nullable=False),
        sa.Column("eligibility", sa.JSON(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "draft",
                "published",
                "closed",
                "under_review",
                "awarded",
                "in_progress",
                "completed",
                "failed",
                "cancelled",
                name="callstatus",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("published_at", models.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", models.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["achievement_id"],
            ["achievements.id"],
        ),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
        ),
        sa.ForeignKeyConstraint(
            ["need_id"],
            ["needs.id"],
        ),
        sa.ForeignKeyConstraint(
            ["owner_org_id"],
            ["organizations.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("achievement_id"),
        sa.UniqueConstraint("need_id"),
    )
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_calls_form"), ["form"], unique=False)
        batch_op.create_index(batch_op.f("ix_calls_owner_org_id"), ["owner_org_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_calls_status"), ["status"], unique=False)

    op.create_table(
        "pilot_agreements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scene_id", sa.Integer(), nullable=False),
        sa.Column("owner_org_id", sa.Integer(), nullable=False),
        sa.Column("provider_org_id", sa.Integer(), nullable=False),
        sa.Column("solution_id", sa.Integer(), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("investment", sa.Numeric(precision=16, scale=2), nullable=False),
        sa.Column("signed_on", sa.Date(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", models.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
        ),
        sa.ForeignKeyConstraint(
            ["owner_org_id"],
            ["organizations.id"],
        ),
        sa.ForeignKeyConstraint(
            ["provider_org_id"],
            ["organizations.id"],
        ),
        sa.ForeignKeyConstraint(
            ["scene_id"],
            ["needs.id"],
        ),
        sa.ForeignKeyConstraint(
            ["solution_id"],
            ["achievements.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("pilot_agreements", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_pilot_agreements_owner_org_id"), ["owner_org_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_pilot_agreements_provider_org_id"), ["provider_org_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_pilot_agreements_scene_id"), ["scene_id"], unique=False)

    op.create_table(
        "scene_solutions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scene_id", sa.Integer(), nullable=False),
        sa.Column("achievement_id", sa.Integer(), nullable=False),
        sa.Column("created_at", models.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["achievement_id"],
            ["achievements.id"],
        ),
        sa.ForeignKeyConstraint(
            ["scene_id"],
            ["needs.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("achievement_id"),
    )
    with op.batch_alter_table("scene_solutions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_scene_solutions_scene_id"), ["scene_id"], unique=False)

    op.create_table(
        "call_invitations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("call_id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("message", sa.String(length=1000), nullable=False),
        sa.Column("invited_by", sa.Integer(), nullable=True),
        sa.Column("created_at", models.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["call_id"],
            ["calls.id"],
        ),
        sa.ForeignKeyConstraint(
            ["invited_by"],
            ["users.id"],
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("call_id", "org_id", name="uq_call_invitation"),
    )
    with op.batch_alter_table("call_invitations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_call_invitations_call_id"), ["call_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_call_invitations_org_id"), ["org_id"], unique=False)

    op.create_table(
        "call_milestones",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("call_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("deliverable", sa.String(length=500), nullable=False),
        sa.Column("acceptance_criterion", sa.String(length=1000), nullable=False),
        sa.Column("payment_share", sa.Numeric(precision=12, scale=8), nullable=False),
        sa.Column("due_months", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["call_id"],
            ["calls.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("call_id", "seq", name="uq_call_milestone_seq"),
    )
    with op.batch_alter_table("call_milestones", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_call_milestones_call_id"), ["call_id"], unique=False)

    op.create_table(
        "call_applications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("call_id", sa.Integer(), nullable=False),
        sa.Column("applicant_org_id", sa.Integer(), nullable=False),
        sa.Column("member_org_ids", sa.JSON(), nullable=False),
        sa.Column("proposal", sa.Text(), nullable=False),
        sa.Column("team", sa.JSON(), nullable=False),
        sa.Column("price", sa.Numeric(precision=16, scale=2), nullable=False),
        sa.Column("schedule", sa.Text(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "submitted",
                "awarded",
                "not_awarded",
                "eliminated",
                name="applicationstatus",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("contract_id", sa.Integer(), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", models.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["applicant_org_id"],
            ["organizations.id"],
        ),
        sa.ForeignKeyConstraint(
            ["call_id"],
            ["calls.id"],
        ),
        sa.ForeignKeyConstraint(
            ["contract_id"],
            ["contracts.id"],
        ),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("call_id", "applicant_org_id", name="uq_call_applicant"),
        sa.UniqueConstraint("contract_id"),
    )
    with op.batch_alter_table("call_applications", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_call_applications_applicant_org_id"), ["applicant_org_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_call_applications_call_id"), ["call_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_call_applications_status"), ["status"], unique=False)

    op.create_table(
        "milestone_acceptances",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("call_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("passed", sa.Boolean(), nullable=False),
        sa.Column("payment_id", sa.Integer(), nullable=True),
        sa.Column("accepted_on", sa.Date(), nullable=False),
        sa.Column("note", sa.String(length=1000), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", models.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["call_applications.id"],
        ),
        sa.ForeignKeyConstraint(
            ["call_id"],
            ["calls.id"],
        ),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
        ),
        sa.ForeignKeyConstraint(
            ["payment_id"],
            ["payments.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("call_id", "seq", "application_id", name="uq_milestone_team"),
    )
    with op.batch_alter_table("milestone_acceptances", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_milestone_acceptances_application_id"), ["application_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_milestone_acceptances_call_id"), ["call_id"], unique=False)

    with op.batch_alter_table("achievements", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "kind",
                sa.Enum("科技成果", "方案", name="achievementkind", native_enum=False, length=32),
                nullable=False,
                server_default="科技成果",
            )
        )
        batch_op.add_column(
            sa.Column(
                "category",
                sa.Enum(
                    "智能物流",
                    "智能制造",
                    "智慧农业",
                    "智能交通",
                    "智慧城市",
                    "智慧医疗",
                    "绿色低碳",
                    "量子科技",
                    "其他",
                    name="scenecategory",
                    native_enum=False,
                    length=32,
                ),
                nullable=True,
            )
        )
        batch_op.create_index(batch_op.f("ix_achievements_kind"), ["kind"], unique=False)

    with op.batch_alter_table("contracts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("call_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_contracts_call_id"), ["call_id"], unique=False)
        batch_op.create_foreign_key("fk_contracts_call_id", "calls", ["call_id"], ["id"])

    with op.batch_alter_table("needs", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "kind",
                sa.Enum("技术需求", "场景", name="needkind", native_enum=False, length=32),
                nullable=False,
                server_default="技术需求",
            )
        )
        batch_op.add_column(
            sa.Column(
                "category",
                sa.Enum(
                    "智能物流",
                    "智能制造",
                    "智慧农业",
                    "智能交通",
                    "智慧城市",
                    "智慧医疗",
                    "绿色低碳",
                    "量子科技",
                    "其他",
                    name="scenecategory",
                    native_enum=False,
                    length=32,
                ),
                nullable=True,
            )
        )
        batch_op.create_index(batch_op.f("ix_needs_kind"), ["kind"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("needs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_needs_kind"))
        batch_op.drop_column("category")
        batch_op.drop_column("kind")

    with op.batch_alter_table("contracts", schema=None) as batch_op:
        batch_op.drop_constraint("fk_contracts_call_id", type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_contracts_call_id"))
        batch_op.drop_column("call_id")

    with op.batch_alter_table("achievements", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_achievements_kind"))
        batch_op.drop_column("category")
        batch_op.drop_column("kind")

    with op.batch_alter_table("milestone_acceptances", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_milestone_acceptances_call_id"))
        batch_op.drop_index(batch_op.f("ix_milestone_acceptances_application_id"))

    op.drop_table("milestone_acceptances")
    with op.batch_alter_table("call_applications", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_call_applications_status"))
        batch_op.drop_index(batch_op.f("ix_call_applications_call_id"))
        batch_op.drop_index(batch_op.f("ix_call_applications_applicant_org_id"))

    op.drop_table("call_applications")
    with op.batch_alter_table("call_milestones", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_call_milestones_call_id"))

    op.drop_table("call_milestones")
    with op.batch_alter_table("call_invitations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_call_invitations_org_id"))
        batch_op.drop_index(batch_op.f("ix_call_invitations_call_id"))

    op.drop_table("call_invitations")
    with op.batch_alter_table("scene_solutions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_scene_solutions_scene_id"))

    op.drop_table("scene_solutions")
    with op.batch_alter_table("pilot_agreements", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pilot_agreements_scene_id"))
        batch_op.drop_index(batch_op.f("ix_pilot_agreements_provider_org_id"))
        batch_op.drop_index(batch_op.f("ix_pilot_agreements_owner_org_id"))

    op.drop_table("pilot_agreements")
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_calls_status"))
        batch_op.drop_index(batch_op.f("ix_calls_owner_org_id"))
        batch_op.drop_index(batch_op.f("ix_calls_form"))

    op.drop_table("calls")
