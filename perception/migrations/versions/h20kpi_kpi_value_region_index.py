"""An index on kpi_value by region and week (ix_kpi_value_region), so that a region's KPI values
of a period are found without reading every region's (issue 19): the internal KPI page of a region's
team, or filtered to a region, grouped a year's values through ix_kpi_value_period, which starts
with the week, and so walked the 2.2 million entries of every region to keep a hundredth of them.

Revision ID: h20kpi_kpi_value_region_index
Revises: h19wk_kpi_week_sums
Create Date: 2026-12-06 17:00:00

"""
from alembic import op


revision = 'h20kpi_kpi_value_region_index'
down_revision = 'h19wk_kpi_week_sums'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('kpi_value', schema=None) as batch_op:
        batch_op.create_index('ix_kpi_value_region', ['region_id', 'period_start'], unique=False)


def downgrade():
    with op.batch_alter_table('kpi_value', schema=None) as batch_op:
        batch_op.drop_index('ix_kpi_value_region')
