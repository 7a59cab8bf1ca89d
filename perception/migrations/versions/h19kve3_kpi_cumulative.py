"""Running sums of the weekly KPI values per series (kpi_value_cumulative) and the write signature
they match (kpi_cumulative_state), so that any period's KPI side of the KPI-versus-experience page
is two weeks' rows (issue 19). Derived rows only: created empty, so the page sums the weekly values
until the next computation, import or hourly refresh builds them.

Revision ID: h19kve3_kpi_cumulative
Revises: h19exp2_respondents
Create Date: 2026-12-06 05:30:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'h19kve3_kpi_cumulative'
down_revision = 'h19kept_kept_results'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'kpi_value_cumulative',
        sa.Column('period_start', sa.Date(), nullable=False),
        sa.Column('definition_id', sa.Integer(), nullable=False),
        sa.Column('service_id', sa.Integer(), nullable=False),
        sa.Column('region_id', sa.Integer(), nullable=False),
        sa.Column('tier_key', sa.Integer(), nullable=False),
        sa.Column('tier_id', sa.Integer(), nullable=True),
        sa.Column('cum_wv', sa.Float(), nullable=False),
        sa.Column('cum_wv_lo', sa.Float(), nullable=False),
        sa.Column('cum_w', sa.Float(), nullable=False),
        sa.Column('cum_n', sa.BigInteger(), nullable=False),
        sa.Column('cum_missing', sa.Integer(), nullable=False),
        sa.Column('cum_rows', sa.Integer(), nullable=False),
        sa.Column('last_week', sa.Date(), nullable=False),
        sa.Column('target', sa.Float(), nullable=True),
        sa.Column('comparator', sa.String(length=2), nullable=True),
        sa.PrimaryKeyConstraint(
            'period_start', 'definition_id', 'service_id', 'region_id', 'tier_key',
            name=op.f('pk_kpi_value_cumulative'),
        ),
    )
    op.create_table(
        'kpi_cumulative_state',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('signature', sa.String(length=80), nullable=False),
        sa.Column('pending', sa.String(length=80), nullable=True),
        sa.Column('last_week', sa.Date(), nullable=True),
        sa.Column('refreshed_at', sa.DateTime(), nullable=False),
        sa.Column('rows', sa.Integer(), nullable=False),
        sa.Column('seconds', sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_kpi_cumulative_state')),
    )


def downgrade():
    op.drop_table('kpi_cumulative_state')
    op.drop_table('kpi_value_cumulative')
