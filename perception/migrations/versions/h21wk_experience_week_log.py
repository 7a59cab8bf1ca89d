"""The log of past weeks written by declared writers (experience_week_log), so that a weekly report
of last week moves the analysis pre-aggregates' split back to its week instead of making them stale
(issue 19: at a national provider's size a stale pre-aggregate made every page read 9M facts until a
rebuild of minutes).

Revision ID: h21wk_experience_week_log
Revises: h20kpi_kpi_value_region_index
Create Date: 2026-12-06 20:00:00

"""
import sqlalchemy as sa
from alembic import op


revision = 'h21wk_experience_week_log'
down_revision = 'h20kpi_kpi_value_region_index'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'experience_week_log',
        sa.Column('seq', sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column('period_start', sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint('seq', 'period_start', name=op.f('pk_experience_week_log')),
    )


def downgrade():
    op.drop_table('experience_week_log')
