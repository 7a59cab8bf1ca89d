"""Make-up working days (调休) on an SLA's business calendar: dates worked on a regular working day's
hours whatever their weekday (issue 14), beside the holidays.

Revision ID: h14b
Revises: h17homes
Create Date: 2026-12-05 17:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'h14b'
down_revision = 'h17homes'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('sla_workday',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sla_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=True),
    sa.ForeignKeyConstraint(['sla_id'], ['sla.id'], name=op.f('fk_sla_workday_sla_id_sla'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sla_workday')),
    sa.UniqueConstraint('sla_id', 'day', name=op.f('uq_sla_workday_sla_id_day'))
    )
    with op.batch_alter_table('sla_workday', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sla_workday_sla_id'), ['sla_id'], unique=False)


def downgrade():
    with op.batch_alter_table('sla_workday', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sla_workday_sla_id'))
    op.drop_table('sla_workday')
