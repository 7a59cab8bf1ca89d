"""history imports and service-desk intake

Revision ID: h16intake
Revises: a53d4eb5bf2e
Create Date: 2026-12-05 13:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'h16intake'
down_revision = 'a53d4eb5bf2e'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('callback_task', schema=None) as batch_op:
        batch_op.add_column(sa.Column('source_ref', sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(
            batch_op.f('uq_callback_task_campaign_id_source_ref'), ['campaign_id', 'source_ref']
        )


def downgrade():
    with op.batch_alter_table('callback_task', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_callback_task_campaign_id_source_ref'), type_='unique')
        batch_op.drop_column('source_ref')
