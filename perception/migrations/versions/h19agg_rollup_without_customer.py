"""The analysis pre-aggregate without the customer (issue 19): keyed on customer it was as large
as the facts and saved nothing. Now region x service x tier x source x week (level 0) and the same
summed over services (level 1); and the perception index's sums and products per cell
(experience_index_rollup) with the respondents who span cells (experience_index_spanning).
The tables hold derived sums only: they are recreated empty and the rollup state is cleared, so
the pages read the facts until the next refresh rebuilds them.

Revision ID: h19agg_rollup
Revises: h15digest
Create Date: 2026-12-05 23:20:00

"""
from alembic import op
import sqlalchemy as sa

# Frozen here: the model's names may change, this migration's may not.
INDEX_SUMS = tuple(f"c{d}" for d in range(6)) + tuple(f"t{d}" for d in range(6))
INDEX_MOMENTS = (
    tuple(f"ss_{d}_{e}" for d in range(6) for e in range(d, 6))
    + tuple(f"sc_{d}_{e}" for d in range(6) for e in range(6))
    + tuple(f"cc_{d}_{e}" for d in range(6) for e in range(d, 6))
)

revision = 'h19agg_rollup'
down_revision = 'h15speed_basis'
branch_labels = None
depends_on = None


def _stats():
    return [
        sa.Column('scale_min', sa.Float(), nullable=False),
        sa.Column('scale_max', sa.Float(), nullable=False),
        sa.Column('n', sa.Integer(), nullable=False),
        sa.Column('s', sa.Float(), nullable=False),
        sa.Column('ss', sa.Float(), nullable=False),
        sa.Column('top2', sa.Integer(), nullable=False),
        sa.Column('promoters', sa.Integer(), nullable=False),
        sa.Column('detractors', sa.Integer(), nullable=False),
    ]


def upgrade():
    op.execute('DELETE FROM analysis_rollup_state')
    op.drop_index('ix_experience_rollup_period', table_name='experience_rollup')
    op.drop_table('experience_rollup')
    op.create_table(
        'experience_rollup',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('level', sa.Integer(), nullable=False),
        sa.Column('period_start', sa.Date(), nullable=False),
        sa.Column('region_id', sa.Integer(), nullable=False),
        sa.Column('service_id', sa.Integer(), nullable=True),
        sa.Column('tier_id', sa.Integer(), nullable=True),
        sa.Column('source', sa.String(length=16), nullable=False),
        sa.Column('kind', sa.String(length=24), nullable=False),
        sa.Column('dimension', sa.String(length=32), nullable=True),
        *_stats(),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_experience_rollup')),
    )
    op.create_index(
        'ix_experience_rollup_level_period', 'experience_rollup', ['level', 'period_start', 'region_id']
    )
    def cell():
        return [
            sa.Column('id', sa.Integer(), nullable=False),
            sa.Column('period_start', sa.Date(), nullable=False),
            sa.Column('region_id', sa.Integer(), nullable=False),
            sa.Column('service_id', sa.Integer(), nullable=True),
            sa.Column('tier_id', sa.Integer(), nullable=True),
            sa.Column('source', sa.String(length=16), nullable=False),
        ]

    op.create_table(
        'experience_index_rollup',
        *cell(),
        sa.Column('level', sa.Integer(), nullable=False),
        sa.Column('respondents', sa.Integer(), nullable=False),
        *(sa.Column(name, sa.Float(), nullable=False) for name in INDEX_SUMS + INDEX_MOMENTS),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_experience_index_rollup')),
    )
    op.create_index(
        'ix_experience_index_rollup_level_period',
        'experience_index_rollup',
        ['level', 'period_start', 'region_id'],
    )
    op.create_table(
        'experience_index_spanning',
        *cell(),
        sa.Column('source_id', sa.Integer(), nullable=False),
        *(sa.Column(name, sa.Float(), nullable=False) for name in INDEX_SUMS),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_experience_index_spanning')),
    )
    op.create_index(
        'ix_experience_index_spanning_period', 'experience_index_spanning', ['period_start', 'region_id']
    )


def downgrade():
    op.execute('DELETE FROM analysis_rollup_state')
    op.drop_index('ix_experience_index_spanning_period', table_name='experience_index_spanning')
    op.drop_table('experience_index_spanning')
    op.drop_index('ix_experience_index_rollup_level_period', table_name='experience_index_rollup')
    op.drop_table('experience_index_rollup')
    op.drop_index('ix_experience_rollup_level_period', table_name='experience_rollup')
    op.drop_table('experience_rollup')
    op.create_table(
        'experience_rollup',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('period_start', sa.Date(), nullable=False),
        sa.Column('region_id', sa.Integer(), nullable=False),
        sa.Column('service_id', sa.Integer(), nullable=True),
        sa.Column('tier_id', sa.Integer(), nullable=True),
        sa.Column('customer_id', sa.Integer(), nullable=True),
        sa.Column('kind', sa.String(length=24), nullable=False),
        sa.Column('dimension', sa.String(length=32), nullable=True),
        *_stats(),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_experience_rollup')),
    )
    op.create_index('ix_experience_rollup_period', 'experience_rollup', ['period_start', 'region_id'])
