"""The service provider's name (Chinese and English) on the perception system, for report covers;
the day a collection point starts reporting weekly (completeness does not count weeks before it).

Revision ID: l17pdf
Revises: a53d4eb5bf2e
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "l17pdf"
down_revision = "a53d4eb5bf2e"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("perception_system") as batch:
        batch.add_column(sa.Column("provider_name_zh", sa.String(200), nullable=False, server_default=""))
        batch.add_column(sa.Column("provider_name_en", sa.String(200), nullable=False, server_default=""))
    with op.batch_alter_table("collection_point") as batch:
        batch.add_column(sa.Column("active_from", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("collection_point") as batch:
        batch.drop_column("active_from")
    with op.batch_alter_table("perception_system") as batch:
        batch.drop_column("provider_name_en")
        batch.drop_column("provider_name_zh")
