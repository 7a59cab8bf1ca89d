"""Survey test links: single-use links through the respondent's pages whose answers stay on the
link's row, apart from every figure (issue 17).

Revision ID: h17survey
Revises: h14b
Create Date: 2026-12-05 16:40:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'h17survey'
down_revision = 'h14b'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('survey_test_link',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=True),
    sa.Column('region_id', sa.Integer(), nullable=True),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.Column('opened_at', sa.DateTime(), nullable=True),
    sa.Column('used_at', sa.DateTime(), nullable=True),
    sa.Column('draft', sa.JSON(), nullable=True),
    sa.Column('page_index', sa.Integer(), nullable=True),
    sa.Column('answers', sa.JSON(), nullable=True),
    sa.Column('language', sa.String(length=8), nullable=True),
    sa.ForeignKeyConstraint(['campaign_id'], ['survey_campaign.id'], name=op.f('fk_survey_test_link_campaign_id_survey_campaign')),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_survey_test_link_created_by_id_user')),
    sa.ForeignKeyConstraint(['region_id'], ['region.id'], name=op.f('fk_survey_test_link_region_id_region')),
    sa.ForeignKeyConstraint(['version_id'], ['survey_version.id'], name=op.f('fk_survey_test_link_version_id_survey_version')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_survey_test_link')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_survey_test_link_token_hash'))
    )
    with op.batch_alter_table('survey_test_link', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_survey_test_link_campaign_id'), ['campaign_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_survey_test_link_version_id'), ['version_id'], unique=False)


def downgrade():
    with op.batch_alter_table('survey_test_link', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_survey_test_link_version_id'))
        batch_op.drop_index(batch_op.f('ix_survey_test_link_campaign_id'))
    op.drop_table('survey_test_link')
