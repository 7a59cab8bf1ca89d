"""Follow-up routing: when a task's owner rule was applied and when it escalated as overdue.

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


def downgrade() -> None:
    with op.batch_alter_table("survey_followup") as batch:
        batch.drop_column("escalated_at")
        batch.drop_column("assigned_at")
