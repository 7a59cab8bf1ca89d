"""API keys scoped to several regions (issue 16): the one scope_region_id of a key becomes rows of
api_token_region; a key narrowed to one region keeps exactly that region.

Revision ID: h16api
Revises: h17review
Create Date: 2026-12-05 16:50:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'h16api'
down_revision = 'h17review'
branch_labels = None
depends_on = None


def upgrade():
    # Read the pairs first: on SQLite the batch below copies api_token to a new table and drops the
    # old one, which would cascade to rows of api_token_region written before it.
    pairs = op.get_bind().execute(
        sa.text("SELECT id, scope_region_id FROM api_token WHERE scope_region_id IS NOT NULL")
    ).all()
    with op.batch_alter_table('api_token') as batch:
        batch.drop_constraint(op.f('fk_api_token_scope_region_id_region'), type_='foreignkey')
        batch.drop_column('scope_region_id')
    table = op.create_table('api_token_region',
    sa.Column('token_id', sa.Integer(), nullable=False),
    sa.Column('region_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['region_id'], ['region.id'], name=op.f('fk_api_token_region_region_id_region'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['token_id'], ['api_token.id'], name=op.f('fk_api_token_region_token_id_api_token'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('token_id', 'region_id', name=op.f('pk_api_token_region'))
    )
    if pairs:
        op.bulk_insert(table, [{'token_id': t, 'region_id': r} for t, r in pairs])


def downgrade():
    # A key of several regions keeps its first: narrower than none, the safe side.
    pairs = op.get_bind().execute(
        sa.text("SELECT token_id, MIN(region_id) FROM api_token_region GROUP BY token_id")
    ).all()
    op.drop_table('api_token_region')
    with op.batch_alter_table('api_token') as batch:
        batch.add_column(sa.Column('scope_region_id', sa.Integer(), nullable=True))
        batch.create_foreign_key(
            op.f('fk_api_token_scope_region_id_region'), 'region', ['scope_region_id'], ['id']
        )
    for token_id, region_id in pairs:
        op.get_bind().execute(
            sa.text("UPDATE api_token SET scope_region_id = :region WHERE id = :token"),
            {'region': region_id, 'token': token_id},
        )
