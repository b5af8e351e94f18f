"""认定登记 in full: conclusion (登记 / 不予登记 / 退回补正) with reason, 登记编号, 技术性收入, contract
subtype, the IP involved, term and payment method. Existing registrations were all 登记; their
技术性收入 is the contract's declared technology-transaction amount, capped at the registered amount.

(New enum values — posting status ``contracted``, contract status ``not_registered`` — need no DDL:
enums are VARCHAR(32) without CHECK constraints.)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, length=32)


def upgrade() -> None:
    with op.batch_alter_table("registrations", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "conclusion",
                _enum("registrationconclusion", "登记", "不予登记", "退回补正"),
                nullable=False,
                server_default="登记",
            )
        )
        batch_op.add_column(sa.Column("reason", sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column("registration_number", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("tech_income", sa.Numeric(precision=16, scale=2), nullable=True))
        batch_op.add_column(
            sa.Column(
                "subtype",
                _enum(
                    "contractsubtype",
                    "委托开发",
                    "合作开发",
                    "专利权转让",
                    "专利申请权转让",
                    "技术秘密转让",
                    "其他技术转让",
                    "专利实施许可",
                    "技术秘密许可",
                    "其他技术许可",
                    "技术咨询",
                    "技术服务",
                    "技术培训",
                    "技术中介",
                ),
                nullable=True,
            )
        )
        batch_op.add_column(
            sa.Column(
                "ip_type", _enum("iptype", "发明专利", "实用新型", "软件著作权", "技术秘密"), nullable=True
            )
        )
        batch_op.add_column(sa.Column("ip_number", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("term_start", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("term_end", sa.Date(), nullable=True))
        batch_op.add_column(
            sa.Column(
                "payment_method",
                _enum("paymentmethod", "一次总付", "分期支付", "提成支付", "提成支付附加预付入门费", "其他"),
                nullable=True,
            )
        )
        batch_op.create_index(batch_op.f("ix_registrations_conclusion"), ["conclusion"], unique=False)
        batch_op.create_unique_constraint("uq_registrations_registration_number", ["registration_number"])
    op.execute(
        "UPDATE registrations SET tech_income = (SELECT CASE WHEN c.tech_transaction_amount < "
        "registrations.registered_amount THEN c.tech_transaction_amount ELSE registrations.registered_amount END"
        " FROM contracts c WHERE c.id = registrations.contract_id)"
    )
    with op.batch_alter_table("registrations", schema=None) as batch_op:
        batch_op.alter_column("tech_income", existing_type=sa.Numeric(precision=16, scale=2), nullable=False)
        batch_op.alter_column(
            "conclusion",
            existing_type=_enum("registrationconclusion", "登记", "不予登记", "退回补正"),
            server_default=None,
        )


def downgrade() -> None:
    with op.batch_alter_table("registrations", schema=None) as batch_op:
        batch_op.drop_constraint("uq_registrations_registration_number", type_="unique")
        batch_op.drop_index(batch_op.f("ix_registrations_conclusion"))
        for name in (
            "payment_method",
            "term_end",
            "term_start",
            "ip_number",
            "ip_type",
            "subtype",
            "tech_income",
            "registration_number",
            "reason",
            "conclusion",
        ):
            batch_op.drop_column(name)
