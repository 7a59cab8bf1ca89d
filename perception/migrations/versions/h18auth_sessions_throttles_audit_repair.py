"""Sessions in the database, atomic throttle counters, and the audit log's NO_VALUE markers repaired

Issue 18. ``user_session`` holds signed-in sessions (revocable on every node); ``throttle_counter``
replaces ``login_attempt`` and ``survey_token_failure`` (counted with one atomic upsert instead of
count-then-insert). Audit images that recorded SQLAlchemy's NO_VALUE marker as the number 4 for a
column that was never set are repaired: where the column cannot hold the number 4 (text, dates,
booleans), a create image gets null (the INSERT stored NULL) and an update or delete image drops
the key (its value was not known). On numeric columns 4 may be a real value: those are left alone.

Revision ID: h18auth
Revises: l17pdf
Create Date: 2026-12-05 13:26:04.836360

"""
import re

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'h18auth'
down_revision = 'l17pdf'
branch_labels = None
depends_on = None

MARKER = 4  # sqlalchemy.orm.base.NO_VALUE's value, as the JSON encoder wrote it
# Audited classes whose table is not the snake case of the class name.
_TABLE_OF = {"Campaign": "survey_campaign", "Invitation": "survey_invitation", "FollowUpTask": "survey_followup"}


def _table_for(object_type):
    return _TABLE_OF.get(object_type) or re.sub(r"(?<!^)(?=[A-Z])", "_", object_type).lower()


def _audit():
    return sa.table(
        "audit_entry",
        sa.column("id", sa.Integer),
        sa.column("action", sa.String),
        sa.column("object_type", sa.String),
        sa.column("before", sa.JSON),
        sa.column("after", sa.JSON),
    )


def _marker_columns(bind):
    """{table: {column names that cannot hold the number 4}}."""
    inspector = sa.inspect(bind)
    out = {}
    for table in inspector.get_table_names():
        out[table] = {
            col["name"] for col in inspector.get_columns(table) if not isinstance(col["type"], sa.Integer | sa.Numeric | sa.Float)
        }
    return out


def _repaired(image, columns, is_create):
    if not isinstance(image, dict):
        return image, False
    fixed = dict(image)
    changed = False
    for key, value in image.items():
        if type(value) is int and value == MARKER and key in columns:
            changed = True
            if is_create:
                fixed[key] = None
            else:
                del fixed[key]
    return fixed, changed


def repair_audit_markers(bind):
    """Repair the images; returns the number of entries changed."""
    audit = _audit()
    marker_columns = _marker_columns(bind)
    like = "%: " + str(MARKER) + "%"
    candidates = bind.execute(
        sa.select(audit.c.id, audit.c.action, audit.c.object_type, audit.c.before, audit.c.after)
        .where(audit.c.action.in_(("create", "update", "delete")))
        .where(sa.or_(sa.cast(audit.c.before, sa.Text).like(like), sa.cast(audit.c.after, sa.Text).like(like)))
        .order_by(audit.c.id)
    ).all()
    changed = 0
    for entry_id, action, object_type, before, after in candidates:
        columns = marker_columns.get(_table_for(object_type or ""), set())
        new_before, before_changed = _repaired(before, columns, False)
        new_after, after_changed = _repaired(after, columns, action == "create")
        values = {}
        if before_changed:
            values["before"] = new_before
        if after_changed:
            values["after"] = new_after
        if values:  # only the repaired image: an absent one stays SQL NULL
            bind.execute(audit.update().where(audit.c.id == entry_id).values(**values))
            changed += 1
    return changed


def upgrade():
    op.create_table('throttle_counter',
    sa.Column('key', sa.String(length=160), nullable=False),
    sa.Column('window_start', sa.DateTime(), nullable=False),
    sa.Column('hits', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_throttle_counter'))
    )
    with op.batch_alter_table('throttle_counter', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_throttle_counter_window_start'), ['window_start'], unique=False)

    op.create_table('user_session',
    sa.Column('id_hash', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.Column('revoked_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_user_session_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id_hash', name=op.f('pk_user_session'))
    )
    with op.batch_alter_table('user_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_user_session_expires_at'), ['expires_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_user_session_user_id'), ['user_id'], unique=False)

    with op.batch_alter_table('login_attempt', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_login_attempt_address_at'))
        batch_op.drop_index(batch_op.f('ix_login_attempt_username_at'))
    op.drop_table('login_attempt')
    with op.batch_alter_table('survey_token_failure', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_survey_token_failure_address_at'))
    op.drop_table('survey_token_failure')

    repair_audit_markers(op.get_bind())


def downgrade():
    # The audit repair is not undone: the markers were never values.
    op.create_table('survey_token_failure',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('address', sa.String(length=64), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_survey_token_failure'))
    )
    with op.batch_alter_table('survey_token_failure', schema=None) as batch_op:
        batch_op.create_index('ix_survey_token_failure_address_at', ['address', 'at'], unique=False)

    op.create_table('login_attempt',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=80), nullable=False),
    sa.Column('address', sa.String(length=64), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('success', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_login_attempt'))
    )
    with op.batch_alter_table('login_attempt', schema=None) as batch_op:
        batch_op.create_index('ix_login_attempt_address_at', ['address', 'at'], unique=False)
        batch_op.create_index('ix_login_attempt_username_at', ['username', 'at'], unique=False)

    with op.batch_alter_table('user_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_user_session_user_id'))
        batch_op.drop_index(batch_op.f('ix_user_session_expires_at'))
    op.drop_table('user_session')
    with op.batch_alter_table('throttle_counter', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_throttle_counter_window_start'))
    op.drop_table('throttle_counter')
