"""The classifier features of the texts the last full text-analysis run featurised, keyed by the
vectoriser's digest, each text by its SHA-256 digest, so a full recompute hashes the n-grams of
new texts only (issue 15: re-running the analysis on 100,000 entries in under 30 s).

Revision ID: h15feat_feature_cache
Revises: h19exp2_respondents
Create Date: 2026-12-06 05:30:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'h15feat_feature_cache'
down_revision = 'h19kve3_kpi_cumulative'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'text_feature_cache',
        sa.Column('key', sa.String(length=64), nullable=False),
        sa.Column('n_texts', sa.Integer(), nullable=False),
        sa.Column('stored_at', sa.DateTime(), nullable=False),
        sa.Column('data', sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint('key', name=op.f('pk_text_feature_cache')),
    )


def downgrade():
    op.drop_table('text_feature_cache')
