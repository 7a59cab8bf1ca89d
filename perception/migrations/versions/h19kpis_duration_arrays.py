"""The covered seconds behind the stored percentile KPIs, per region and week, so pages pool
percentiles without reloading the tickets; and the write counters that key the manager home's
headline (issue 19).

Revision ID: h19kpis_arrays
Revises: h15digest
Create Date: 2026-12-05 23:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'h19kpis_arrays'
down_revision = 'h19agg_rollup'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'kpi_duration_array',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('granularity', sa.String(length=8), nullable=False),
        sa.Column('period_start', sa.Date(), nullable=False),
        sa.Column('region_id', sa.Integer(), nullable=False),
        sa.Column('dtype', sa.String(length=4), nullable=False),
        sa.Column('segments', sa.LargeBinary(), nullable=False),
        sa.Column('response', sa.LargeBinary(), nullable=False),
        sa.Column('resolution', sa.LargeBinary(), nullable=False),
        sa.Column('stored_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('granularity', 'period_start', 'region_id', name='uq_kpi_duration_array_key'),
    )
    op.create_table(
        'data_version',
        sa.Column('name', sa.String(length=40), nullable=False),
        sa.Column('n', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('name'),
    )
    op.execute("INSERT INTO data_version (name, n) VALUES ('analysis_headline', 0)")


def downgrade():
    op.drop_table('data_version')
    op.drop_table('kpi_duration_array')
