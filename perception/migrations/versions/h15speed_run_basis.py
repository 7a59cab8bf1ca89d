"""A text-analysis run records what it built on (issue 15): the next run that finds only new
entries places them in the stored themes and models instead of recomputing 100,000 texts.

Revision ID: h15speed_basis
Revises: h15digest
Create Date: 2026-12-05 23:10:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'h15speed_basis'
down_revision = 'h15digest'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('text_analysis_run') as batch:
        batch.add_column(sa.Column('basis', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('text_analysis_run') as batch:
        batch.drop_column('basis')
