"""anonymous survey drafts on the server (the cookie keeps only their key)

Revision ID: h19perf
Revises: h15text
Create Date: 2026-12-05 14:20:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'h19perf'
down_revision = 'h15text'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('survey_anonymous_draft',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key_hash', sa.String(length=64), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('answers', sa.JSON(), nullable=False),
    sa.Column('page_index', sa.Integer(), nullable=False),
    sa.Column('saved_on', sa.Date(), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['survey_campaign.id'], name=op.f('fk_survey_anonymous_draft_campaign_id_survey_campaign')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_survey_anonymous_draft')),
    sa.UniqueConstraint('key_hash', name=op.f('uq_survey_anonymous_draft_key_hash'))
    )
    with op.batch_alter_table('survey_anonymous_draft', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_survey_anonymous_draft_campaign_id'), ['campaign_id'], unique=False)


def downgrade():
    with op.batch_alter_table('survey_anonymous_draft', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_survey_anonymous_draft_campaign_id'))
    op.drop_table('survey_anonymous_draft')
