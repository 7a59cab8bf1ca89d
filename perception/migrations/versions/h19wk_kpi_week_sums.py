"""Sums of the weekly KPI values per definition, service, tier, comparator and week over the
regions (kpi_week_sum) and the write signature they match (kpi_week_sum_state), so that the
internal KPI page's weekly sums for every region are a hundredth of the values' rows (issue 19).
Derived rows only: created empty, so the page groups the values until the next computation,
import or hourly refresh builds them.

Revision ID: h19wk_kpi_week_sums
Revises: h19kve4_experience_cumulative
Create Date: 2026-12-06 14:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'h19wk_kpi_week_sums'
down_revision = 'h19kve4_experience_cumulative'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'kpi_week_sum',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('period_start', sa.Date(), nullable=False),
        sa.Column('definition_id', sa.Integer(), nullable=False),
        sa.Column('service_id', sa.Integer(), nullable=False),
        sa.Column('tier_id', sa.Integer(), nullable=True),
        sa.Column('comparator', sa.String(length=2), nullable=True),
        sa.Column('weighted_sum', sa.Float(), nullable=False),
        sa.Column('weights', sa.Float(), nullable=False),
        sa.Column('rows', sa.Integer(), nullable=False),
        sa.Column('missed', sa.Integer(), nullable=False),
        sa.Column('met_rows', sa.Integer(), nullable=False),
        sa.Column('target_max', sa.Float(), nullable=True),
        sa.Column('target_min', sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_kpi_week_sum')),
    )
    with op.batch_alter_table('kpi_week_sum', schema=None) as batch_op:
        batch_op.create_index(
            'ix_kpi_week_sum_week', ['period_start', 'definition_id', 'service_id'], unique=False
        )
    op.create_table(
        'kpi_week_sum_state',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('signature', sa.String(length=80), nullable=False),
        sa.Column('pending', sa.String(length=80), nullable=True),
        sa.Column('refreshed_at', sa.DateTime(), nullable=False),
        sa.Column('rows', sa.Integer(), nullable=False),
        sa.Column('seconds', sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_kpi_week_sum_state')),
    )


def downgrade():
    op.drop_table('kpi_week_sum_state')
    with op.batch_alter_table('kpi_week_sum', schema=None) as batch_op:
        batch_op.drop_index('ix_kpi_week_sum_week')
    op.drop_table('kpi_week_sum')
