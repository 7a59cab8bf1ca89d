"""Text analysis: the classifier's model card (evaluation), English theme terms, and the texts an
opportunity was made from.

Revision ID: h15text
Revises: h16intake
"""

import sqlalchemy as sa
from alembic import op

revision = "h15text"
down_revision = "h16intake"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("text_classifier_model", schema=None) as batch_op:
        batch_op.add_column(sa.Column("evaluation", sa.JSON(), nullable=True))
    with op.batch_alter_table("text_theme", schema=None) as batch_op:
        batch_op.add_column(sa.Column("top_terms_en", sa.JSON(), nullable=True))
    with op.batch_alter_table("opportunity", schema=None) as batch_op:
        batch_op.add_column(sa.Column("entry_refs", sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table("opportunity", schema=None) as batch_op:
        batch_op.drop_column("entry_refs")
    with op.batch_alter_table("text_theme", schema=None) as batch_op:
        batch_op.drop_column("top_terms_en")
    with op.batch_alter_table("text_classifier_model", schema=None) as batch_op:
        batch_op.drop_column("evaluation")
