"""The manager's pages' kept results, shared by every process (issue 19): one row per page and
key (period, filters, scope) with the write counter it was computed at and the result as
compressed JSON (perception.core.kept). Derived rows only: created empty.

Revision ID: h19kept_kept_results
Revises: h19exp2_respondents
Create Date: 2026-12-06 05:30:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'h19kept_kept_results'
down_revision = 'h19exp2_respondents'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'kept_result',
        sa.Column('key', sa.String(length=64), nullable=False),
        sa.Column('page', sa.String(length=40), nullable=False),
        sa.Column('params', sa.Text(), nullable=False),
        sa.Column('version', sa.BigInteger(), nullable=False),
        sa.Column('format', sa.Integer(), nullable=False),
        sa.Column('computed_at', sa.DateTime(), nullable=False),
        sa.Column('payload', sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint('key', name=op.f('pk_kept_result')),
    )
    op.create_index('ix_kept_result_page_computed_at', 'kept_result', ['page', 'computed_at'])


def downgrade():
    op.drop_index('ix_kept_result_page_computed_at', table_name='kept_result')
    op.drop_table('kept_result')
