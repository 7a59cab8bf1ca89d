"""An index of experience_respondent by respondent (source, source id, week), so that the experience
page's samples merge a respondent of the split's weeks with their rows before it by a probe that
finds nothing for nearly everyone, instead of grouping each one's facts (issue 19).

Revision ID: h23src_respondent_source
Revises: h21wk_experience_week_log
Create Date: 2026-12-07 01:30:00

"""
from alembic import op


revision = 'h23src_respondent_source'
down_revision = 'h21wk_experience_week_log'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(
        'ix_experience_respondent_source',
        'experience_respondent',
        ['source', 'source_id', 'period_start'],
        unique=False,
    )


def downgrade():
    op.drop_index('ix_experience_respondent_source', table_name='experience_respondent')
