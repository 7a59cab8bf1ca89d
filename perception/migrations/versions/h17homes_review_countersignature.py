"""Countersignatures per customer: each customer representative countersigns their customer's
view of a signed review (issue 17/18). The one countersignature stored on the review so far is
copied over, attributed to its signer's customer.

Revision ID: h17homes
Revises: h18jobs
Create Date: 2026-12-05 13:40:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'h17homes'
down_revision = 'h18jobs'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('review_countersignature',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('review_id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('signatory', sa.String(length=120), nullable=False),
    sa.Column('signed_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customer_org.id'], name=op.f('fk_review_countersignature_customer_id_customer_org')),
    sa.ForeignKeyConstraint(['review_id'], ['review.id'], name=op.f('fk_review_countersignature_review_id_review'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_review_countersignature_user_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_review_countersignature')),
    sa.UniqueConstraint('review_id', 'customer_id', name=op.f('uq_review_countersignature_review_id_customer_id'))
    )
    with op.batch_alter_table('review_countersignature', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_review_countersignature_review_id'), ['review_id'], unique=False)
    op.execute(
        'INSERT INTO review_countersignature (review_id, customer_id, user_id, signatory, signed_at) '
        'SELECT review.id, "user".customer_id, review.customer_signed_by_id, '
        'COALESCE(review.customer_signatory, \'\'), review.customer_signed_at '
        'FROM review JOIN "user" ON "user".id = review.customer_signed_by_id '
        'WHERE review.customer_signed_at IS NOT NULL AND "user".customer_id IS NOT NULL'
    )


def downgrade():
    with op.batch_alter_table('review_countersignature', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_review_countersignature_review_id'))
    op.drop_table('review_countersignature')
