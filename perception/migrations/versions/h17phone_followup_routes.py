"""Follow-up routing rules: the owner of a region's and/or a service's follow-up tasks (issue 17).

Revision ID: h17phone
Revises: h17survey
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "h17phone"
down_revision = "h17survey"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "survey_followup_route",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("region_id", sa.Integer(), nullable=True),
        sa.Column("service_id", sa.Integer(), nullable=True),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), server_default=sa.text("(CURRENT_TIMESTAMP)"), nullable=False),
        sa.Column("updated_at", sa.DateTime(), server_default=sa.text("(CURRENT_TIMESTAMP)"), nullable=False),
        sa.ForeignKeyConstraint(
            ["region_id"], ["region.id"], name=op.f("fk_survey_followup_route_region_id_region")
        ),
        sa.ForeignKeyConstraint(
            ["service_id"], ["service.id"], name=op.f("fk_survey_followup_route_service_id_service")
        ),
        sa.ForeignKeyConstraint(["owner_id"], ["user.id"], name=op.f("fk_survey_followup_route_owner_id_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_followup_route")),
        sa.UniqueConstraint(
            "region_id", "service_id", name=op.f("uq_survey_followup_route_region_id_service_id")
        ),
    )
    op.create_index(
        op.f("ix_survey_followup_route_region_id"), "survey_followup_route", ["region_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_survey_followup_route_region_id"), table_name="survey_followup_route")
    op.drop_table("survey_followup_route")
