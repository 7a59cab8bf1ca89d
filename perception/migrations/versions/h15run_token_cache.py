"""The tokens of the texts the last text-analysis run segmented, keyed by the tokenizer's digest,
so a full recompute segments only new texts (issue 15: a full run over 100,000 entries in the
background in under 30 s).

Revision ID: h15run_token_cache
Revises: h19kpis_arrays
Create Date: 2026-12-06 02:30:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'h15run_token_cache'
down_revision = 'h19kpis_arrays'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'text_token_cache',
        sa.Column('key', sa.String(length=64), nullable=False),
        sa.Column('n_texts', sa.Integer(), nullable=False),
        sa.Column('stored_at', sa.DateTime(), nullable=False),
        sa.Column('data', sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint('key'),
    )


def downgrade():
    op.drop_table('text_token_cache')
