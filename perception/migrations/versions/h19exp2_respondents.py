"""The experience page's newest respondents without reading the facts (issue 19): one row per
respondent and cell with their highest rating per dimension and their CSAT and NPS answers,
sorted by week (experience_respondent), and the write signature it was built from
(experience_respondent_state). Derived rows only: created empty, so the page reads the facts
until the next refresh of the analysis sums builds it.

Revision ID: h19exp2_respondents
Revises: h15run_token_cache
Create Date: 2026-12-06 02:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'h19exp2_respondents'
down_revision = 'h15run_token_cache'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'experience_respondent',
        sa.Column('period_start', sa.Date(), nullable=False),
        sa.Column('source', sa.String(length=16), nullable=False),
        sa.Column('source_id', sa.Integer(), nullable=False),
        sa.Column('region_id', sa.Integer(), nullable=False),
        sa.Column('service_id', sa.Integer(), nullable=True),
        sa.Column('tier_id', sa.Integer(), nullable=True),
        sa.Column('customer_id', sa.Integer(), nullable=True),
        sa.Column('cells', sa.Integer(), nullable=False),
        sa.Column('dim_kind', sa.Boolean(), nullable=False),
        sa.Column('rated', sa.Boolean(), nullable=False),
        *(sa.Column(f'd{d}', sa.Float(), nullable=True) for d in range(6)),
        sa.Column('csat', sa.Float(), nullable=True),
        sa.Column('nps', sa.Float(), nullable=True),
    )
    op.create_index(
        'ix_experience_respondent_newest',
        'experience_respondent',
        [sa.text('period_start DESC'), 'source', 'source_id'],
        postgresql_where=sa.text('cells = 1'),
    )
    op.create_index(
        'ix_experience_respondent_region_newest',
        'experience_respondent',
        ['region_id', sa.text('period_start DESC'), 'source', 'source_id'],
        postgresql_where=sa.text('cells = 1'),
    )
    op.create_index(
        'ix_experience_respondent_spanning',
        'experience_respondent',
        ['period_start'],
        postgresql_where=sa.text('cells > 1'),
    )
    op.create_table(
        'experience_respondent_state',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('signature', sa.String(length=80), nullable=False),
        sa.Column('refreshed_at', sa.DateTime(), nullable=False),
        sa.Column('rows', sa.Integer(), nullable=False),
        sa.Column('seconds', sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_experience_respondent_state')),
    )


def downgrade():
    op.drop_table('experience_respondent_state')
    op.drop_index('ix_experience_respondent_spanning', table_name='experience_respondent')
    op.drop_index('ix_experience_respondent_region_newest', table_name='experience_respondent')
    op.drop_index('ix_experience_respondent_newest', table_name='experience_respondent')
    op.drop_table('experience_respondent')
