"""job rows: the outbox and state of background jobs (retries, lease, progress); review
sections computed ahead for the review page

Revision ID: h18jobs
Revises: h19perf
Create Date: 2026-12-05 13:40:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'h18jobs'
down_revision = 'h19perf'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('job',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('kwargs', sa.JSON(), nullable=False),
    sa.Column('subject', sa.String(length=120), nullable=True),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('max_attempts', sa.Integer(), nullable=False),
    sa.Column('due_at', sa.DateTime(), nullable=False),
    sa.Column('dispatched_at', sa.DateTime(), nullable=True),
    sa.Column('lease_until', sa.DateTime(), nullable=True),
    sa.Column('step', sa.String(length=80), nullable=True),
    sa.Column('done', sa.Integer(), nullable=False),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('result', sa.JSON(), nullable=True),
    sa.Column('requested_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=True),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['requested_by_id'], ['user.id'], name=op.f('fk_job_requested_by_id_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_job'))
    )
    with op.batch_alter_table('job', schema=None) as batch_op:
        batch_op.create_index('ix_job_status_due_at', ['status', 'due_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_job_subject'), ['subject'], unique=False)

    op.create_table('review_section_cache',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('review_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=30), nullable=False),
    sa.Column('basis', sa.String(length=64), nullable=True),
    sa.Column('computed_at', sa.DateTime(), nullable=False),
    sa.Column('content', sa.JSON(), nullable=False),
    sa.Column('view_zh', sa.JSON(), nullable=False),
    sa.Column('view_en', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['review_id'], ['review.id'], name=op.f('fk_review_section_cache_review_id_review'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_review_section_cache')),
    sa.UniqueConstraint('review_id', 'code', name=op.f('uq_review_section_cache_review_id_code'))
    )
    with op.batch_alter_table('review_section_cache', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_review_section_cache_review_id'), ['review_id'], unique=False)


def downgrade():
    with op.batch_alter_table('review_section_cache', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_review_section_cache_review_id'))
    op.drop_table('review_section_cache')
    with op.batch_alter_table('job', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_job_subject'))
        batch_op.drop_index('ix_job_status_due_at')
    op.drop_table('job')
