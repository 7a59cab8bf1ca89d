"""Follow-up routing: when a task's owner rule was applied and when it escalated as overdue;
API keys scoped to roles, a region, a customer, and to reading only.

Revision ID: l17b
Revises: h18auth
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "l17b"
down_revision = "h18auth"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("survey_followup") as batch:
        batch.add_column(sa.Column("assigned_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("escalated_at", sa.DateTime(), nullable=True))
    with op.batch_alter_table("api_token") as batch:
        batch.add_column(sa.Column("scope_roles", sa.String(400), nullable=False, server_default=""))
        batch.add_column(sa.Column("scope_region_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("scope_customer_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("read_only", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.create_foreign_key(
            op.f("fk_api_token_scope_region_id_region"), "region", ["scope_region_id"], ["id"]
        )
        batch.create_foreign_key(
            op.f("fk_api_token_scope_customer_id_customer_org"), "customer_org", ["scope_customer_id"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("api_token") as batch:
        batch.drop_constraint(op.f("fk_api_token_scope_customer_id_customer_org"), type_="foreignkey")
        batch.drop_constraint(op.f("fk_api_token_scope_region_id_region"), type_="foreignkey")
        batch.drop_column("read_only")
        batch.drop_column("scope_customer_id")
        batch.drop_column("scope_region_id")
        batch.drop_column("scope_roles")
    with op.batch_alter_table("survey_followup") as batch:
        batch.drop_column("escalated_at")
        batch.drop_column("assigned_at")
