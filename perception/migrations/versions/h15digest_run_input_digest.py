"""A text-analysis run records the digest of what it read and left (issue 15): the next run that
finds the same digest has nothing to do and says so, instead of re-clustering 100,000 texts.

Revision ID: h15digest
Revises: h16api
Create Date: 2026-12-05 20:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'h15digest'
down_revision = 'h16api'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('text_analysis_run') as batch:
        batch.add_column(sa.Column('input_digest', sa.String(length=64), nullable=True))


def downgrade():
    with op.batch_alter_table('text_analysis_run') as batch:
        batch.drop_column('input_digest')
