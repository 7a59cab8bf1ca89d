"""Findings and improvement titles in both languages (issue 17): the English PDF shows a finding's
or an improvement's English text, the Chinese PDF its Chinese one. The existing ``text`` and
``title`` columns keep what was written so far and are the Chinese variant from now on; a text
written in one language only is shown in both PDFs.

Revision ID: h17review
Revises: h17phone
Create Date: 2026-12-05 16:30:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'h17review'
down_revision = 'h17phone'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('review_finding', schema=None) as batch_op:
        batch_op.add_column(sa.Column('text_en', sa.Text(), nullable=True))
    with op.batch_alter_table('improvement_item', schema=None) as batch_op:
        batch_op.add_column(sa.Column('title_en', sa.String(length=200), nullable=True))


def downgrade():
    with op.batch_alter_table('improvement_item', schema=None) as batch_op:
        batch_op.drop_column('title_en')
    with op.batch_alter_table('review_finding', schema=None) as batch_op:
        batch_op.drop_column('text_en')
