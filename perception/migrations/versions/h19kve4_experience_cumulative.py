"""Running sums of the weekly experience sums per series (experience_cumulative, one row per week)
and the write signature and series they match (experience_cumulative_state), so that any period's
experience side of the KPI-versus-experience page is two weeks' rows (issue 19). Derived rows
only: created empty, so the page sums the pre-aggregate until the next refresh of it builds them.

Revision ID: h19kve4_experience_cumulative
Revises: h15feat_feature_cache
Create Date: 2026-12-06 08:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'h19kve4_experience_cumulative'
down_revision = 'h15feat_feature_cache'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'experience_cumulative',
        sa.Column('period_start', sa.Date(), nullable=False),
        sa.Column('sums', sa.LargeBinary(), nullable=False),
        sa.Column('digest', sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint('period_start', name=op.f('pk_experience_cumulative')),
    )
    op.create_table(
        'experience_cumulative_state',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('signature', sa.String(length=80), nullable=False),
        sa.Column('refreshed_at', sa.DateTime(), nullable=False),
        sa.Column('series', sa.Integer(), nullable=False),
        sa.Column('weeks', sa.Integer(), nullable=False),
        sa.Column('keys', sa.LargeBinary(), nullable=False),
        sa.Column('measures', sa.JSON(), nullable=False),
        sa.Column('seconds', sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_experience_cumulative_state')),
    )


def downgrade():
    op.drop_table('experience_cumulative_state')
    op.drop_table('experience_cumulative')
