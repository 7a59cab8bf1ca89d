"""API keys scoped to several regions (issue 16): the one scope_region_id of a key becomes rows of
api_token_region; a key narrowed to one region keeps exactly that region.

Revision ID: h16api
Revises: h17homes
Create Date: 2026-12-05 16:50:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'h16api'
down_revision = 'h17homes'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('api_token_region',
    sa.Column('token_id', sa.Integer(), nullable=False),
    sa.Column('region_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['region_id'], ['region.id'], name=op.f('fk_api_token_region_region_id_region'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['token_id'], ['api_token.id'], name=op.f('fk_api_token_region_token_id_api_token'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('token_id', 'region_id', name=op.f('pk_api_token_region'))
    )
    op.execute(
        "INSERT INTO api_token_region (token_id, region_id) "
        "SELECT id, scope_region_id FROM api_token WHERE scope_region_id IS NOT NULL"
    )
    with op.batch_alter_table('api_token') as batch:
        batch.drop_constraint(op.f('fk_api_token_scope_region_id_region'), type_='foreignkey')
        batch.drop_column('scope_region_id')


def downgrade():
    with op.batch_alter_table('api_token') as batch:
        batch.add_column(sa.Column('scope_region_id', sa.Integer(), nullable=True))
        batch.create_foreign_key(
            op.f('fk_api_token_scope_region_id_region'), 'region', ['scope_region_id'], ['id']
        )
    # A key of several regions keeps its first: narrower than none, the safe side.
    op.execute(
        "UPDATE api_token SET scope_region_id = "
        "(SELECT MIN(region_id) FROM api_token_region WHERE token_id = api_token.id)"
    )
    op.drop_table('api_token_region')
